import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { valueTypes, type FieldChange } from './auditEvent.js'
import { applyChanges } from './diffApply.js'
import { diffValues, type DiffOptions } from './diffValues.js'
import { comparePaths, parsePath } from './jsonValuePath.js'

/**
 * Snapshots as producers have them: fast-check's JSON values plus Dates, bigints, nulls, keys that
 * need quoting or shadow Object.prototype, and `undefined` members (a missing key). Two snapshots
 * are built from one base with two overlays, so they share structure and differ at every depth.
 */
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('id', 'name', 'tags', 'address', 'city', 'due') },
  { weight: 1, arbitrary: fc.constantFrom('e.mail', 'x y', 'a[0]', '', '0', '__proto__', 'constructor') },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
)
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }),
  fc.string({ maxLength: 4 }),
  fc.date({ noInvalidDate: true }),
)
const { snapshot } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('snapshot')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  snapshot: fc.dictionary(key, fc.option(tie('value'), { nil: undefined, freq: 6 }), { maxKeys: 5 }),
})) as { snapshot: fc.Arbitrary<Record<string, unknown>> }

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)

/** A member only if the object has it: `__proto__` and `constructor` are keys here, not inherited. */
const own = (object: Record<string, unknown>, key: string): unknown =>
  Object.hasOwn(object, key) ? object[key] : undefined

/** The base with the overlay laid over it: objects merged key by key, arrays item by item. */
function overlay(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const merged: Record<string, unknown> = {}
    for (const key of new Set([...Object.keys(base), ...Object.keys(over)])) {
      const value = Object.hasOwn(over, key) ? overlay(own(base, key), over[key]) : own(base, key)
      Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true })
    }
    return merged
  }
  if (Array.isArray(base) && Array.isArray(over)) return over.map((item, i) => overlay(base[i], item))
  return over
}

const pair = fc
  .tuple(snapshot, snapshot, snapshot)
  .map(
    ([base, a, b]) =>
      [overlay(base, a), overlay(base, b)] as [Record<string, unknown>, Record<string, unknown>],
  )
const anyPair = fc.oneof(pair, fc.tuple(snapshot, snapshot))

/**
 * A snapshot as text that makes the equality used here explicit: members that are undefined are
 * missing, key order does not matter, numbers and bigints are equal when their JSON text is (so
 * -0 is 0 and 1n is 1), Dates are equal by time and differ from strings.
 */
function describeSnapshot(value: unknown): string {
  if (value instanceof Date) return `Date(${value.toISOString()})`
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map(describeSnapshot).join(',')}]`
  if (isPlainObject(value)) {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${describeSnapshot(member)}`)
    return `{${members.join(',')}}`
  }
  return JSON.stringify(value)
}

/** What JSON keeps of a snapshot: Dates become ISO strings, bigints numbers. */
const asJson = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)))

/**
 * What applying diffValues(before, after) to `before` rebuilds: `after`, except that a Date inside
 * a value carried whole (it appeared, or replaced a value of another kind) comes back as its ISO
 * string, since value_type describes only the top of a value.
 */
function rebuilt(before: unknown, after: unknown): unknown {
  if (isPlainObject(before) && isPlainObject(after)) {
    const members = Object.entries(after).filter(([, value]) => value !== undefined)
    return Object.fromEntries(members.map(([key, value]) => [key, rebuilt(own(before, key), value)]))
  }
  if (Array.isArray(before) && Array.isArray(after)) return after.map((item, i) => rebuilt(before[i], item))
  return after instanceof Date ? after : asJson(after)
}

const withoutType = ({ path, old_value, new_value }: FieldChange) => ({ path, old_value, new_value })
const swapped = (c: FieldChange) => ({ path: c.path, old_value: c.new_value, new_value: c.old_value })

describe('diffValues with applyChanges', () => {
  it('rebuilds the new snapshot from the old one and the changes', () => {
    fc.assert(
      fc.property(anyPair, ([before, after]) => {
        const result = applyChanges(before, diffValues(before, after))
        expect(describeSnapshot(result)).toBe(describeSnapshot(rebuilt(before, after)))
        expect(describeSnapshot(asJson(result))).toBe(describeSnapshot(asJson(after)))
      }),
    )
  })

  it('rebuilds it as JSON whatever the options', () => {
    const options: fc.Arbitrary<DiffOptions> = fc.record(
      {
        arrays: fc.constantFrom('by-index', 'whole'),
        maxDepth: fc.integer({ min: 1, max: 3 }),
        wholeAt: fc.array(fc.constantFrom('id', 'tags', 'address.city', 'tags[*]', 'address[*].city')),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(anyPair, options, ([before, after], diffOptions) => {
        const result = applyChanges(before, diffValues(before, after, diffOptions))
        expect(describeSnapshot(asJson(result))).toBe(describeSnapshot(asJson(after)))
      }),
    )
  })

  it('creates a record from nothing and deletes it back to nothing', () => {
    fc.assert(
      fc.property(snapshot, (record) => {
        expect(describeSnapshot(asJson(applyChanges(undefined, diffValues(undefined, record))))).toBe(
          describeSnapshot(asJson(record)),
        )
        expect(applyChanges(record, diffValues(record, undefined))).toEqual({})
      }),
    )
  })
})

describe('diffValues', () => {
  it('finds nothing between a snapshot and itself or its copy', () => {
    fc.assert(
      fc.property(snapshot, (record) => {
        expect(diffValues(record, record)).toEqual([])
        expect(diffValues(record, structuredClone(record))).toEqual([])
      }),
    )
  })

  it('finds the same changes backwards, with old and new swapped', () => {
    fc.assert(
      fc.property(anyPair, ([before, after]) => {
        const forwards = diffValues(before, after)
        const backwards = diffValues(after, before)
        expect(backwards.map(swapped)).toEqual(forwards.map(withoutType))
        // value_type describes the side that exists; where both do, each direction's new value.
        forwards.forEach((c, i) => {
          if (c.old_value === null || c.new_value === null)
            expect(backwards[i]?.value_type).toBe(c.value_type)
        })
      }),
    )
  })

  it('gives unique, sorted, well-formed paths, JSON text values and a value_type that fits them', () => {
    fc.assert(
      fc.property(anyPair, ([before, after]) => {
        const changes = diffValues(before, after)
        const paths = changes.map((c) => c.path)
        expect(new Set(paths).size).toBe(paths.length)
        expect([...paths].sort(comparePaths)).toEqual(paths)
        for (const c of changes) {
          expect(parsePath(c.path).length).toBeGreaterThan(0)
          expect(c.old_value !== null || c.new_value !== null).toBe(true)
          // Equal text on both sides only when a Date became the string of its ISO text, or back.
          if (c.old_value === c.new_value) expect(['date', 'string']).toContain(c.value_type)
          expect(valueTypes).toContain(c.value_type)
          const described = JSON.parse((c.new_value ?? c.old_value)!) as unknown
          const jsonType = described === null ? 'null' : Array.isArray(described) ? 'array' : typeof described
          expect(jsonType).toBe(c.value_type === 'date' ? 'string' : c.value_type)
          if (c.old_value !== null) JSON.parse(c.old_value)
        }
      }),
    )
  })

  it('respects the options: no index below a whole array, no path deeper than maxDepth', () => {
    fc.assert(
      fc.property(anyPair, fc.integer({ min: 1, max: 3 }), ([before, after], maxDepth) => {
        for (const c of diffValues(before, after, { arrays: 'whole' })) {
          expect(parsePath(c.path).some((segment) => typeof segment === 'number')).toBe(false)
        }
        for (const c of diffValues(before, after, { maxDepth })) {
          expect(parsePath(c.path).length).toBeLessThanOrEqual(maxDepth)
        }
      }),
    )
  })
})
