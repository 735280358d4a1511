import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonicalJson.js'
import { canonicalEvent, canonicalEventJson, eventForm } from './canonicalForm.js'
import { contentDigest } from './contentDigest.js'
import { anyAuditEvent, sampleEvent } from './testSupport/auditEvents.js'

// Micro-comparison (not asserted). Node 20.20 on the 2-CPU development machine, sampleEvent-like
// events (822 bytes of canonical text), best of 7 runs of 200,000 calls after warm-up:
//   canonicalJson(canonicalEvent(event))   9.3 µs
//   canonicalEventJson(event)              1.6 µs
//   contentDigest(event)                   3.8 µs  (≈ 260,000 events/s; SHA-256 is most of it)
//   entryHash(entry)                       0.9 µs  (≈ 1,080,000 entries/s)

describe('canonicalEventJson', () => {
  it('writes exactly what canonicalize writes for the canonical event, for any event', () => {
    fc.assert(
      fc.property(anyAuditEvent, (event) => {
        expect(canonicalEventJson(event)).toBe(canonicalJson(canonicalEvent(event)))
      }),
      { numRuns: 1000 },
    )
  })

  it('tags the form, sorts keys by UTF-16 code units and keeps nulls', () => {
    const event = { ...sampleEvent(), attributes: { z: '1', ｚ: '2', '\u{1f600}': '3', é: '4', Z: '5' } }
    const json = canonicalEventJson(event)
    expect(json.startsWith('{"action":{"kind":"update","name":"invoice.update"},"actor":{')).toBe(true)
    expect(json).toContain(`"form":"${eventForm}"`)
    expect(json).toContain('"on_behalf_of":null')
    // U+1F600 is written as a surrogate pair (0xD83D...), which sorts before U+FF5A (ｚ).
    expect(json).toContain('"attributes":{"Z":"5","z":"1","é":"4","\u{1f600}":"3","ｚ":"2"}')
  })

  it('hashes lone surrogates as U+FFFD, what they read back as after UTF-8 storage', () => {
    const stored = { ...sampleEvent(), category: 'a\ufffdb', attributes: { '\ufffd': 'x\ufffd' } }
    const raw = { ...sampleEvent(), category: 'a\ud800b', attributes: { '\udc00': 'x\udfff' } }
    expect(canonicalEventJson(raw)).toBe(canonicalEventJson(stored))
    expect(contentDigest(raw)).toBe(contentDigest(stored))
  })

  it('covers only the fields of AuditEvent', () => {
    const event = sampleEvent()
    const decorated = { ...event, partition: 3, actor: { ...event.actor, extra: true } }
    expect(canonicalEventJson(decorated)).toBe(canonicalEventJson(event))
    expect(canonicalEvent(decorated)).toEqual(canonicalEvent(event))
  })

  it('keeps an attribute named __proto__ as an ordinary key', () => {
    const attributes = JSON.parse('{"__proto__":"p","a":"b"}') as Record<string, string>
    const event = { ...sampleEvent(), attributes }
    expect(canonicalEventJson(event)).toContain('"attributes":{"__proto__":"p","a":"b"}')
    expect(canonicalEventJson(event)).toBe(canonicalJson(canonicalEvent(event)))
  })

  it('refuses timestamps that are not integer epoch milliseconds', () => {
    expect(() => canonicalEventJson({ ...sampleEvent(), occurred_at: 1.5 })).toThrow(
      'occurred_at must be an integer number of epoch milliseconds, got 1.5',
    )
    // recorded_at is the pipeline's receipt time, not the event's content: not hashed.
    expect(canonicalEventJson({ ...sampleEvent(), recorded_at: 1 })).toBe(canonicalEventJson(sampleEvent()))
  })

  it('changes with any field, and with the order of changes', () => {
    const event = sampleEvent()
    const changes = [
      ...event.changes,
      { path: 'currency', old_value: null, new_value: '"EUR"', value_type: 'string' as const },
    ]
    const one = { ...event, changes }
    const other = { ...event, changes: [...changes].reverse() }
    expect(contentDigest(one)).not.toBe(contentDigest(other))
    expect(contentDigest({ ...event, before: '' })).not.toBe(contentDigest(event))
  })
})

describe('contentDigest', () => {
  it('is lowercase hex SHA-256 of the UTF-8 canonical text', () => {
    const event = { ...sampleEvent(), category: 'Zoë \u{1f600}' }
    const expected = createHash('sha256').update(
      Buffer.from(canonicalize(canonicalEvent(event)) ?? '', 'utf8'),
    )
    expect(contentDigest(event)).toBe(expected.digest('hex'))
    expect(contentDigest(event)).toMatch(/^[0-9a-f]{64}$/)
  })
})
