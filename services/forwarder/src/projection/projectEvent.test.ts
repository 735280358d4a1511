import { describe, expect, it } from 'vitest'
import { sampleEvent } from '../testing/sampleEvent.js'
import { parseFieldPath, projectEvent } from './projectEvent.js'

const paths = (...list: string[]) => list.map(parseFieldPath)

describe('projectEvent', () => {
  it('replaces sensitive values in changes and snapshots unless the destination is allowed them', () => {
    const event = sampleEvent()
    const redacted = projectEvent(event, { exclude: [], allowSensitive: false })
    expect(redacted['changes']).toEqual([
      event.changes[0],
      { ...event.changes[1], new_value: '"[redacted]"' },
    ])
    expect(redacted['after']).toBe('{"priority":"Normal","solution":"[redacted]"}')
    expect(JSON.stringify(redacted)).not.toContain('Use Save as PDF')
    const allowed = projectEvent(event, { exclude: [], allowSensitive: true })
    expect(JSON.stringify(allowed)).toContain('Use Save as PDF')
  })

  it('keeps only the included paths, and always event_id', () => {
    const projected = projectEvent(sampleEvent(), {
      include: paths('category', 'actor.id', 'attributes.channel'),
      exclude: [],
      allowSensitive: false,
    })
    expect(projected).toEqual({
      event_id: sampleEvent().event_id,
      category: 'security',
      actor: { id: 'u-1003' },
      attributes: { channel: 'web' },
    })
  })

  it('removes excluded paths without touching the decoded event', () => {
    const event = sampleEvent()
    const projected = projectEvent(event, {
      exclude: paths('actor.ip', 'before', 'after', 'event_id'),
      allowSensitive: true,
    })
    expect(projected['actor']).not.toHaveProperty('ip')
    expect(projected).not.toHaveProperty('before')
    expect(projected).not.toHaveProperty('after')
    expect(projected.event_id).toBe(event.event_id)
    expect(event.actor.ip).toBe('203.0.113.7')
    expect(event.before).not.toBeNull()
  })
})
