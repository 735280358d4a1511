import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffValues } from './diffValues.js'
import { formatPath, parsePath } from './jsonValuePath.js'
import { snapshotJsonText } from './jsonValueSnapshot.js'
import { redactEvent, type RedactableEvent } from './redactEvent.js'
import type { RedactionMethod } from './redactMethod.js'
import { isSensitivePath } from './redactPath.js'

const hash: RedactionMethod = { mode: 'hash', hmacKey: 'k1-secret' }
const drop: RedactionMethod = { mode: 'drop' }
const marker = /^(hmac-sha256:[0-9a-f]{64}|\[redacted\])$/

describe('redactEvent', () => {
  const before = { title: 'Export to PDF fails', customer: { name: 'Ada', email: 'ada@old.example' } }
  const after = {
    title: 'Export to PDF fails',
    customer: { name: 'Ada', email: 'ada@new.example' },
    priority: 'Urgent',
  }
  const event = {
    event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02',
    changes: diffValues(before, after),
    before: snapshotJsonText(before),
    after: snapshotJsonText(after),
    sensitive_fields: ['customer.email'],
  }

  it('redacts changes and both snapshots, leaving the rest of the event as it is', () => {
    const redacted = redactEvent(event, drop)
    expect(redacted).toEqual({
      event_id: event.event_id,
      changes: [
        {
          path: 'customer.email',
          old_value: '"[redacted]"',
          new_value: '"[redacted]"',
          value_type: 'string',
        },
        { path: 'priority', old_value: null, new_value: '"Urgent"', value_type: 'string' },
      ],
      before: '{"customer":{"email":"[redacted]","name":"Ada"},"title":"Export to PDF fails"}',
      after:
        '{"customer":{"email":"[redacted]","name":"Ada"},"priority":"Urgent","title":"Export to PDF fails"}',
      sensitive_fields: ['customer.email'],
    })
    expect(event.changes[0]?.old_value).toBe('"ada@old.example"')
  })

  it('keeps a missing snapshot missing', () => {
    expect(redactEvent({ ...event, before: null }, hash).before).toBeNull()
  })

  it('returns an event with no sensitive fields as it is, but still checks the key', () => {
    const plain = { ...event, sensitive_fields: [] }
    expect(redactEvent(plain, hash)).toBe(plain)
    expect(() => redactEvent(plain, { mode: 'hash', hmacKey: '' })).toThrow(RangeError)
  })

  it('names the snapshot that is not JSON', () => {
    expect(() => redactEvent({ ...event, after: '{' }, hash)).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON_TEXT', path: 'after' }) as Error,
    )
  })
})

/**
 * Random records with a sensitive subtree: everything secret is a string carrying §, which
 * nothing else generates (fast-check's default strings are printable ASCII), so any § in the
 * output is a leak.
 */
const plainKey = fc.oneof(
  fc.constantFrom('id', 'name', 'customer', 'card', 'tags', 'x y', 'e.mail'),
  fc.string({ maxLength: 3 }),
)
const secret = fc.string({ maxLength: 6 }).map((text) => `§${text}`)

const valueOf = (leaf: fc.Arbitrary<unknown>, key: fc.Arbitrary<string>) =>
  fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 3 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  })).value

const plainValue = valueOf(
  fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 4 })),
  plainKey,
)
const plainRecord = fc.dictionary(plainKey, plainValue, { maxKeys: 4, noNullPrototype: true })
const sensitiveSegments = fc.array(fc.constantFrom('customer', 'card', 'e.mail', 'pin'), {
  minLength: 1,
  maxLength: 3,
})

/** A copy of `record` with `value` at `segments`, making the objects on the way (undefined: removed). */
function placed(record: unknown, segments: readonly string[], value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> =
    typeof record === 'object' && record !== null && !Array.isArray(record) ? { ...record } : {}
  const [first, ...rest] = segments
  if (first === undefined) return copy
  const member = rest.length === 0 ? value : placed(copy[first], rest, value)
  Object.defineProperty(copy, first, { value: member, enumerable: true, writable: true, configurable: true })
  if (member === undefined) delete copy[first]
  return copy
}

/**
 * Before and after, each holding a secret (or nothing) at the sensitive path. Sometimes the
 * top-level field leading to it is missing or a plain value on one side, so that the change
 * carries the secret inside a whole object.
 */
const recordsWithSecrets = (secretKeys: boolean) => {
  const secretValue = valueOf(secret, secretKeys ? fc.oneof(secret, plainKey) : plainKey)
  return fc
    .record({
      base: plainRecord,
      segments: sensitiveSegments,
      oldSecret: fc.option(secretValue, { nil: undefined }),
      newSecret: fc.option(secretValue, { nil: undefined }),
      sameSecret: fc.boolean(),
      reshaped: fc.constantFrom('neither', 'before', 'after'),
      reshapedTo: fc.constantFrom(undefined, 'plain'),
      method: fc.constantFrom(hash, drop),
    })
    .map(({ base, segments, oldSecret, newSecret, sameSecret, reshaped, reshapedTo, method }) => {
      const reshape = (record: Record<string, unknown>, side: string) =>
        reshaped === side ? placed(record, segments.slice(0, 1), reshapedTo) : record
      return {
        before: reshape(placed(base, segments, oldSecret), 'before'),
        after: reshape(placed(base, segments, sameSecret ? oldSecret : newSecret), 'after'),
        segments,
        sensitivePath: formatPath(segments),
        method,
      }
    })
}

const eventFor = (
  before: object,
  after: object,
  sensitivePath: string,
  wholeAt: boolean,
): RedactableEvent => ({
  changes: diffValues(before, after, wholeAt ? { wholeAt: [sensitivePath] } : {}),
  before: snapshotJsonText(before),
  after: snapshotJsonText(after),
  sensitive_fields: [sensitivePath],
})

const valueAt = (value: unknown, segments: readonly string[]): unknown =>
  segments.reduce<unknown>(
    (at, key) =>
      typeof at === 'object' && at !== null && Object.hasOwn(at, key)
        ? (at as Record<string, unknown>)[key]
        : undefined,
    value,
  )

describe('redactEvent on random records', () => {
  it('leaves no sensitive value anywhere in the event', () => {
    fc.assert(
      fc.property(recordsWithSecrets(false), ({ before, after, sensitivePath, method }) => {
        const redacted = redactEvent(eventFor(before, after, sensitivePath, false), method)
        expect(JSON.stringify(redacted)).not.toContain('§')
      }),
    )
  })

  it('leaves no sensitive key either, when the sensitive fields are diffed whole', () => {
    fc.assert(
      fc.property(recordsWithSecrets(true), ({ before, after, sensitivePath, method }) => {
        const redacted = redactEvent(eventFor(before, after, sensitivePath, true), method)
        expect(JSON.stringify(redacted)).not.toContain('§')
      }),
    )
  })

  it('changes nothing but the sensitive values, and hashes equal values equally', () => {
    fc.assert(
      fc.property(recordsWithSecrets(true), ({ before, after, segments, sensitivePath, method }) => {
        const event = eventFor(before, after, sensitivePath, true)
        const redacted = redactEvent(event, method)
        const markers = (['before', 'after'] as const).map((side) => {
          const original = { before, after }[side]
          const result = JSON.parse(redacted[side]!) as unknown
          const found = valueAt(result, segments)
          if (valueAt(original, segments) === undefined) {
            expect(found).toBeUndefined()
            return found
          }
          expect(found).toMatch(marker)
          expect(result).toEqual(JSON.parse(snapshotJsonText(placed(original, segments, found))))
          return found
        })
        const [oldSecret, newSecret] = [valueAt(before, segments), valueAt(after, segments)]
        if (method.mode === 'hash' && oldSecret !== undefined && newSecret !== undefined) {
          expect(markers[0] === markers[1]).toBe(snapshotJsonText(oldSecret) === snapshotJsonText(newSecret))
        }
        redacted.changes.forEach((change, i) => {
          const original = event.changes[i]!
          if (!isSensitivePath(sensitivePath, [change.path])) return expect(change).toBe(original)
          // The change is at the sensitive path or carries it inside a whole value.
          const inside = segments.slice(parsePath(change.path).length)
          expect({ ...change, old_value: null, new_value: null }).toEqual({
            ...original,
            old_value: null,
            new_value: null,
          })
          for (const side of ['old_value', 'new_value'] as const) {
            expect(change[side] === null).toBe(original[side] === null)
            if (change[side] === null || original[side] === null) continue
            const [result, originalValue] = [
              JSON.parse(change[side]),
              JSON.parse(original[side]),
            ] as unknown[]
            const found = valueAt(result, inside)
            if (valueAt(originalValue, inside) === undefined) expect(result).toEqual(originalValue)
            else {
              expect(found).toMatch(marker)
              expect(result).toEqual(inside.length === 0 ? found : placed(originalValue, inside, found))
            }
          }
        })
      }),
    )
  })
})
