import { describe, expect, it } from 'vitest'
import { compareDelivery, type AcknowledgedEvent } from './deliveryOracle.js'

const acked = (key: string, ...ids: string[]): AcknowledgedEvent[] =>
  ids.map((eventId, sequence) => ({ eventId, key, sequence }))

describe('compareDelivery', () => {
  it('reports a perfect delivery as all zeros', () => {
    const events = [...acked('a', 'a1', 'a2'), ...acked('b', 'b1')]
    const report = compareDelivery(events, [{ eventId: 'b1' }, { eventId: 'a1' }, { eventId: 'a2' }])
    expect(report).toEqual({
      acknowledged: 3,
      observed: 3,
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      reordered: 0,
      lostSample: [],
    })
  })

  it('counts lost, duplicated, unexpected and reordered-per-key apart', () => {
    const events = [...acked('a', 'a1', 'a2', 'a3'), ...acked('b', 'b1', 'b2')]
    const report = compareDelivery(events, [
      { eventId: 'a2' },
      { eventId: 'a1' }, // a1 after a2: one reordering for key a
      { eventId: 'a2' }, // a copy: duplicated, not reordered again
      { eventId: 'x9' }, // nobody acknowledged it
      { eventId: 'x9' }, // its copy counts as duplicated, not unexpected twice
      { eventId: 'b1' },
    ])
    expect(report).toMatchObject({ lost: 2, duplicated: 2, unexpected: 1, reordered: 1 })
    expect(report.lostSample).toEqual(['a3', 'b2'])
  })

  it('counts each event that came before one already seen of its key', () => {
    const events = acked('k', 'e0', 'e1', 'e2', 'e3')
    const report = compareDelivery(
      events,
      ['e3', 'e0', 'e1', 'e2'].map((eventId) => ({ eventId })),
    )
    expect(report.reordered).toBe(3)
  })
})
