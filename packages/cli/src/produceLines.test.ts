import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { parseEventJson } from '@audit-pipeline/event-model'
import { produceLines } from './produceLines.js'

const valid = (id: number) =>
  JSON.stringify({
    event_id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    occurred_at: '2024-03-14T09:45:00Z',
    tenant: 'witify',
    source: { service: 'helpdesk-api' },
    actor: { type: 'user', id: 'u-1' },
    action: { kind: 'create', name: 'ticket.create' },
    category: 'business',
    object: { type: 'ticket', id: `t-${id}` },
  })

/** Stands in for the SDK's `generic`: validates like it, and "sends" into an array. */
function fakeSend(fail?: (event: { event_id: string }) => boolean) {
  const sent: string[] = []
  const send = (input: unknown) =>
    Promise.resolve().then(() => {
      const event = parseEventJson(input)
      if (fail?.(event)) throw new Error('Kafka did not accept 1 event(s)')
      sent.push(event.event_id)
    })
  return { sent, send }
}

describe('produceLines', () => {
  it('sends every valid line and reports the rest with line number and reason', async () => {
    const input = Readable.from(
      [
        valid(1),
        '',
        '{"tenant": "x"',
        valid(2),
        JSON.stringify({ ...JSON.parse(valid(3)), category: 42 }),
      ].join('\n'),
    )
    const { sent, send } = fakeSend()
    const summary = await produceLines(input, send)
    expect(summary.lines).toBe(5)
    expect(summary.sent).toBe(2)
    expect(sent).toHaveLength(2)
    expect(summary.rejected.map((r) => r.line)).toEqual([3, 5])
    expect(summary.rejected[0]?.reason).toMatch(/^not JSON: /)
    expect(summary.rejected[1]?.reason).toBe('category: expected a string')
    expect(summary.failed).toEqual([])
  })

  it('tells events Kafka refused apart from invalid ones', async () => {
    const { send } = fakeSend((event) => event.event_id.endsWith('2'))
    const summary = await produceLines(Readable.from([valid(1), valid(2)].join('\n')), send)
    expect(summary.sent).toBe(1)
    expect(summary.failed).toEqual([{ line: 2, reason: 'Kafka did not accept 1 event(s)' }])
    expect(summary.rejected).toEqual([])
  })

  it('never has more than maxInFlight events waiting for Kafka', async () => {
    let waiting = 0
    let mostWaiting = 0
    const release: (() => void)[] = []
    const send = (input: unknown) => {
      parseEventJson(input)
      waiting++
      mostWaiting = Math.max(mostWaiting, waiting)
      return new Promise<void>((resolve) =>
        release.push(() => {
          waiting--
          resolve()
        }),
      )
    }
    const lines = Array.from({ length: 50 }, (_, i) => valid(i)).join('\n')
    const done = produceLines(Readable.from(lines), send, { maxInFlight: 5 })
    // Acknowledge whatever is waiting until the run finishes.
    const drain = setInterval(() => release.splice(0).forEach((ack) => ack()), 1)
    const summary = await done.finally(() => clearInterval(drain))
    expect(summary.sent).toBe(50)
    expect(mostWaiting).toBeLessThanOrEqual(5)
    expect(mostWaiting).toBeGreaterThan(1)
  })
})
