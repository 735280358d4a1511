import avro from 'avsc'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { writeWireHeader } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'
import { anyAuditEvent, sampleEvent } from '../../../../packages/integrity/src/testSupport/auditEvents.js'
import { encodedEventDigest } from './encodedEventDigest.js'

const type = avro.Type.forSchema(currentSchema(auditEventContract) as avro.Schema)
/** As the normalizer's codec writes it: the Confluent wire format around the Avro body. */
const encoded = (event: AuditEvent) => writeWireHeader(42, type.toBuffer(event))

/**
 * Events as they reach the codec: times the event policy accepts (not negative, not far ahead:
 * avsc reads longs beyond 2^52 inexactly), no attribute named __proto__ (refused: Avro readers
 * drop it), and well-formed text (a lone surrogate is the next test's).
 */
const policyTime = fc.integer({ min: 0, max: 4_102_444_800_000 })
const encodable = fc
  .tuple(anyAuditEvent, policyTime, policyTime)
  .map(([event, occurredAt, recordedAt]) =>
    wellFormedText({ ...event, occurred_at: occurredAt, recorded_at: recordedAt }),
  )
  .filter((event) => !Object.hasOwn(event.attributes, '__proto__'))

/** `value` with every string, object keys included, well-formed (lone surrogates as U+FFFD). */
function wellFormedText<T>(value: T): T {
  if (typeof value === 'string') return value.toWellFormed() as T
  if (Array.isArray(value)) return value.map(wellFormedText) as T
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, member]) => [key.toWellFormed(), wellFormedText(member)]),
  ) as T
}

describe('encodedEventDigest', () => {
  const digestOf = encodedEventDigest()

  it('is the content digest of the event that was encoded, for any event', () => {
    fc.assert(
      fc.property(encodable, (event) => {
        expect(digestOf(encoded(event))).toBe(contentDigest(event))
      }),
      { numRuns: 500 },
    )
  })

  it('digests a lone surrogate as every reader of the output reads it back, the sink included', () => {
    // avsc writes a lone surrogate as its three WTF-8 bytes, which UTF-8 readers take for three
    // U+FFFD: that is the event the sink stores, and this is the digest it records for it.
    const event = { ...sampleEvent(5), attributes: { note: 'a\ud800b' } }
    const readBack = { ...event, attributes: { note: 'a\ufffd\ufffd\ufffdb' } }
    expect(digestOf(encoded(event))).toBe(contentDigest(readBack))
    expect(digestOf(encoded(event))).not.toBe(contentDigest(event))
  })

  it('does not depend on recorded_at, and tells any other change', () => {
    const event = sampleEvent(3)
    const digest = digestOf(encoded(event))
    expect(digestOf(encoded({ ...event, recorded_at: event.recorded_at + 1 }))).toBe(digest)
    const changed: AuditEvent[] = [
      { ...event, changes: [{ ...event.changes[0]!, new_value: '121' }] },
      { ...event, attributes: { region: 'eu-west-2' } },
      { ...event, actor: { ...event.actor, ip: null } },
      { ...event, occurred_at: event.occurred_at + 1 },
    ]
    for (const other of changed) expect(digestOf(encoded(other))).not.toBe(digest)
  })

  it('reads a value inside a larger buffer (a slice of a transferred flush) by its own bytes only', () => {
    const first = encoded(sampleEvent(1))
    const second = encoded(sampleEvent(2))
    const packed = Buffer.concat([first, second])
    expect(digestOf(packed.subarray(first.length))).toBe(contentDigest(sampleEvent(2)))
    expect(digestOf(new Uint8Array(packed.buffer, packed.byteOffset, first.length))).toBe(
      contentDigest(sampleEvent(1)),
    )
  })
})
