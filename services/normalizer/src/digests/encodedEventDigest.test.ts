import avro from 'avsc'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { writeWireHeader } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { auditEventContract, currentSchema } from '@audit-pipeline/schemas'
import {
  anyAuditEvent,
  mapStrings,
  sampleEvent,
} from '../../../../packages/integrity/src/testSupport/auditEvents.js'
import { avroCanonicalDigest } from './avroCanonicalDigest.js'
import { encodedEventDigest, readsDirectly } from './encodedEventDigest.js'

const type = avro.Type.forSchema(currentSchema(auditEventContract) as avro.Schema)
/** As the normalizer's codec writes it: the Confluent wire format around the Avro body. */
const encoded = (event: AuditEvent) => writeWireHeader(42, type.toBuffer(event))

/**
 * Events as they reach the codec: times the event policy accepts (not negative, not far ahead:
 * avsc reads longs beyond 2^52 inexactly), no attribute named __proto__ (refused: Avro readers
 * drop it), and well-formed text (a lone surrogate is the next test's).
 */
/** `value` with every string, object keys included, well-formed (lone surrogates as U+FFFD). */
const wellFormedText = <T>(value: T): T => mapStrings(value, (text) => text.toWellFormed())

const policyTime = fc.integer({ min: 0, max: 4_102_444_800_000 })
const withPolicyTimes = fc
  .tuple(anyAuditEvent, policyTime, policyTime)
  .map(([event, occurredAt, recordedAt]) => ({ ...event, occurred_at: occurredAt, recorded_at: recordedAt }))
  .filter((event) => !Object.hasOwn(event.attributes, '__proto__'))
const encodable = withPolicyTimes.map(wellFormedText)

/** The Avro body of a wire-format value, and the digest of the event avsc reads from it. */
const bodyOf = (value: Uint8Array) => value.subarray(5)
const readBackDigest = (body: Uint8Array) => contentDigest(type.fromBuffer(Buffer.from(body)) as AuditEvent)

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

  it('is written straight from the Avro bytes for the current schema', () => {
    // Should this fail, the schema changed: teach avroCanonicalDigest the new fields (and its
    // fingerprint), or every digest is decoded first and costs twice as much.
    expect(readsDirectly(type)).toBe(true)
  })
})

describe('avroCanonicalDigest', () => {
  it('writes the digest avsc reading gives, for any well-formed event, with no help', () => {
    fc.assert(
      fc.property(encodable, (event) => {
        const body = bodyOf(encoded(event))
        expect(avroCanonicalDigest(body)).toBe(readBackDigest(body))
      }),
      { numRuns: 1000 },
    )
  })

  it('leaves to avsc any event with text that is not valid UTF-8, and nothing else', () => {
    fc.assert(
      fc.property(withPolicyTimes, (event) => {
        const body = bodyOf(encoded(event))
        const direct = avroCanonicalDigest(body)
        if (direct !== undefined) expect(direct).toBe(readBackDigest(body))
        const wellFormed = JSON.stringify(event) === JSON.stringify(wellFormedText(event))
        expect(direct === undefined).toBe(!wellFormed)
      }),
      { numRuns: 1000 },
    )
  })

  it('sorts attribute keys by UTF-16 code units, which UTF-8 byte order is not', () => {
    // U+FF5A sorts after U+1F600 in UTF-8 bytes and before it in UTF-16 code units.
    const event = { ...sampleEvent(1), attributes: { '\u{1f600}': 'a', '\uff5a': 'b', z: 'c' } }
    const body = bodyOf(encoded(event))
    expect(avroCanonicalDigest(body)).toBe(contentDigest(event))
  })

  it('reads blocks written with a negative count and their byte size', () => {
    const event = { ...sampleEvent(2), sensitive_fields: [] }
    const plain = Buffer.from(bodyOf(encoded(event)))
    expect(plain.at(-1)).toBe(0) // the empty array's end
    // Two items in one block: count -2 (zig-zag 3), the block's size, the items, the end.
    const block = Buffer.from([3, 2 * 8, 2 * 3, ...Buffer.from('one'), 2 * 3, ...Buffer.from('two'), 0])
    const body = Buffer.concat([plain.subarray(0, -1), block])
    const expected = contentDigest({ ...event, sensitive_fields: ['one', 'two'] })
    expect(readBackDigest(body)).toBe(expected)
    expect(avroCanonicalDigest(body)).toBe(expected)
  })

  it('leaves repeated and __proto__ attribute keys to avsc, whose reading decides them', () => {
    // A map is written as an array of key-value pairs would be, which lets the keys repeat.
    const pairs = JSON.parse(JSON.stringify(currentSchema(auditEventContract))) as {
      fields: { name: string; type: unknown; default?: unknown }[]
    }
    const attributes = pairs.fields.find((field) => field.name === 'attributes')!
    attributes.type = {
      type: 'array',
      items: {
        type: 'record',
        name: 'Pair',
        fields: [
          { name: 'k', type: 'string' },
          { name: 'v', type: 'string' },
        ],
      },
    }
    attributes.default = []
    const pairType = avro.Type.forSchema(pairs as avro.Schema)
    const bodyWith = (keys: string[]) =>
      pairType.toBuffer({ ...sampleEvent(4), attributes: keys.map((k, i) => ({ k, v: `v${i}` })) })
    expect(avroCanonicalDigest(bodyWith(['a', 'b']))).toBe(readBackDigest(bodyWith(['a', 'b'])))
    for (const keys of [['a', 'a'], ['b', 'a', 'b'], ['__proto__'], ['a', '__proto__']]) {
      const body = bodyWith(keys)
      expect(avroCanonicalDigest(body)).toBeUndefined()
      expect(encodedEventDigest()(Buffer.concat([Buffer.alloc(5), body]))).toBe(readBackDigest(body))
    }
  })

  it('digests a 5 MB value and a 6,000-level JSON text as avsc reading does, and the next small event too', () => {
    const nested = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000)
    const huge: AuditEvent = {
      ...sampleEvent(8),
      after: nested,
      changes: [
        { path: 'body', old_value: null, new_value: 'x\n"é'.repeat(1_250_000), value_type: 'string' },
      ],
    }
    const body = bodyOf(encoded(huge))
    expect(body.length).toBeGreaterThan(5_000_000)
    expect(avroCanonicalDigest(body)).toBe(contentDigest(huge))
    const small = bodyOf(encoded(sampleEvent(9)))
    expect(avroCanonicalDigest(small)).toBe(contentDigest(sampleEvent(9)))
  })

  it('leaves to avsc a body cut short, one with bytes after the event, and a long past 2^48', () => {
    const body = bodyOf(encoded(sampleEvent(6)))
    expect(avroCanonicalDigest(body.subarray(0, -1))).toBeUndefined()
    expect(avroCanonicalDigest(Buffer.concat([body, Buffer.from([0])]))).toBeUndefined()
    const late = { ...sampleEvent(6), occurred_at: 2 ** 50 }
    const lateBody = bodyOf(encoded(late))
    expect(avroCanonicalDigest(lateBody)).toBeUndefined()
    expect(digestOfAny(lateBody)).toBe(contentDigest(late))
    // Cut short, avsc refuses it too: the normalizer never sends such a value.
    expect(() => digestOfAny(body.subarray(0, -1))).toThrow()
  })
})

const digestOfAny = (body: Uint8Array) => encodedEventDigest()(Buffer.concat([Buffer.alloc(5), body]))
