import { describe, expect, it } from 'vitest'
import { sampleEvent } from '../testing/sampleEvent.js'
import { parseFieldPath, projectEvent, sendsContentDigest } from './projectEvent.js'

const paths = (...list: string[]) => list.map(parseFieldPath)
/** projectEvent only places the digest; prepareEvent.test.ts checks it is the event's. */
const digest = 'ab'.repeat(32)

describe('projectEvent', () => {
  it('replaces sensitive values in changes and snapshots unless the destination is allowed them', () => {
    const event = sampleEvent()
    const redacted = projectEvent(event, { exclude: [], allowSensitive: false }, digest)
    expect(redacted['changes']).toEqual([
      event.changes[0],
      { ...event.changes[1], new_value: '"[redacted]"' },
    ])
    expect(redacted['after']).toBe('{"priority":"Normal","solution":"[redacted]"}')
    expect(JSON.stringify(redacted)).not.toContain('Use Save as PDF')
    const allowed = projectEvent(event, { exclude: [], allowSensitive: true }, digest)
    expect(JSON.stringify(allowed)).toContain('Use Save as PDF')
    // Sent as it is, the event is still copied: the digest is added to the copy.
    expect(allowed).toEqual({ content_digest: digest, ...event })
    expect(event).not.toHaveProperty('content_digest')
  })

  it('keeps only the included paths, and always event_id and content_digest', () => {
    const projected = projectEvent(
      sampleEvent(),
      { include: paths('category', 'actor.id', 'attributes.channel'), exclude: [], allowSensitive: false },
      digest,
    )
    expect(projected).toEqual({
      event_id: sampleEvent().event_id,
      content_digest: digest,
      category: 'security',
      actor: { id: 'u-1003' },
      attributes: { channel: 'web' },
    })
  })

  it('writes content_digest second, after event_id, whatever the projection', () => {
    for (const projection of [
      { exclude: [], allowSensitive: true },
      { exclude: [], allowSensitive: false },
      { include: paths('severity'), exclude: [], allowSensitive: false },
      { exclude: paths('tenant', 'before'), allowSensitive: true },
    ]) {
      expect(Object.keys(projectEvent(sampleEvent(), projection, digest)).slice(0, 2)).toEqual([
        'event_id',
        'content_digest',
      ])
    }
  })

  it('leaves content_digest out only when exclude names it, or when no digest was computed', () => {
    const excluding = { exclude: paths('content_digest'), allowSensitive: true }
    expect(sendsContentDigest(excluding)).toBe(false)
    expect(projectEvent(sampleEvent(), excluding, digest)).not.toHaveProperty('content_digest')
    expect(
      projectEvent(
        sampleEvent(),
        { include: paths('content_digest'), exclude: [], allowSensitive: true },
        digest,
      ),
    ).toEqual({ event_id: sampleEvent().event_id, content_digest: digest })
    expect(sendsContentDigest({ exclude: paths('actor.ip'), allowSensitive: true })).toBe(true)
    expect(projectEvent(sampleEvent(), { exclude: [], allowSensitive: true }, undefined)).not.toHaveProperty(
      'content_digest',
    )
  })

  it('removes excluded paths without touching the decoded event', () => {
    const event = sampleEvent()
    const projected = projectEvent(
      event,
      { exclude: paths('actor.ip', 'before', 'after', 'event_id'), allowSensitive: true },
      digest,
    )
    expect(projected['actor']).not.toHaveProperty('ip')
    expect(projected).not.toHaveProperty('before')
    expect(projected).not.toHaveProperty('after')
    expect(projected.event_id).toBe(event.event_id)
    expect(event).not.toHaveProperty('content_digest')
    expect(event.actor.ip).toBe('203.0.113.7')
    expect(event.before).not.toBeNull()
  })
})
