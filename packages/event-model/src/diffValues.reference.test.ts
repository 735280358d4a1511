import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { FieldChange } from './auditEvent.js'
import { diffValues, type DiffOptions } from './diffValues.js'
import { JsonValueError } from './jsonValueError.js'
import { appendToPath, compareKeys, parsePathPattern, type PathSegment } from './jsonValuePath.js'
import { coversPath } from './jsonValuePathPatterns.js'
import { snapshotJsonText, type SnapshotKind } from './jsonValueSnapshot.js'
import { JsonNumber, writeJsonText, type JsonTree } from './jsonValueTree.js'

/*
 * diffValues and snapshotJsonText as they were before they were made fast (commit e4af212): every
 * value built into a JsonTree, then written, with its path formatted on the way. Kept as the
 * definition the fast versions must match exactly: the same changes, the same text, and for a
 * value they refuse, the same error (code, path, message) found first.
 */

function referenceKindOf(value: unknown, path: string): SnapshotKind {
  switch (typeof value) {
    case 'undefined':
      return 'absent'
    case 'string':
      return 'string'
    case 'boolean':
      return 'boolean'
    case 'bigint':
      return 'number'
    case 'number':
      if (!Number.isFinite(value)) {
        throw new JsonValueError(
          'NON_FINITE_NUMBER',
          path,
          `${where(path)} is ${value}, which JSON cannot represent`,
        )
      }
      return 'number'
    case 'function':
    case 'symbol':
      throw unsupported(path, `${where(path)} is a ${typeof value}`)
  }
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new JsonValueError(
        'INVALID_DATE',
        path,
        `${where(path)} is an invalid Date, which has no ISO text`,
      )
    }
    return 'date'
  }
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
  if (prototype !== Object.prototype && prototype !== null) {
    throw unsupported(path, `${where(path)} is an instance of ${prototype.constructor?.name || 'a class'}`)
  }
  if (
    Object.getOwnPropertySymbols(value).some((key) => Object.prototype.propertyIsEnumerable.call(value, key))
  ) {
    throw unsupported(path, `${where(path)} has symbol keys`)
  }
  return 'object'
}

function referenceRecord(snapshot: unknown, side: string): object {
  const kind = referenceKindOf(snapshot, '')
  if (kind === 'absent') return {}
  if (kind !== 'object') {
    throw new JsonValueError(
      'ROOT_NOT_OBJECT',
      '',
      `${side} must be a plain object, or undefined for a record that does not exist; got a value of type ${kind}`,
    )
  }
  return snapshot as object
}

function referenceMembers(object: object): Map<string, unknown> {
  return new Map(Object.entries(object).filter(([, value]) => value !== undefined))
}

function referenceItem(array: readonly unknown[], index: number, path: string): unknown {
  const item = array[index]
  if (item === undefined) {
    throw new JsonValueError(
      'UNSUPPORTED_VALUE',
      path,
      `${path} is undefined or a hole in an array, which JSON would turn into null; use null if that is meant`,
    )
  }
  return item
}

class ReferenceAncestors {
  private readonly containers = new Set<object>()

  enter(container: object, path: string): void {
    if (this.containers.has(container)) {
      throw new JsonValueError(
        'CYCLE',
        path,
        `${where(path)} is a container it is itself inside (a cycle), which JSON cannot represent`,
      )
    }
    this.containers.add(container)
  }

  leave(container: object): void {
    this.containers.delete(container)
  }
}

function referenceSnapshotText(snapshot: unknown): string {
  if (snapshot === undefined)
    throw unsupported('', 'the snapshot is undefined (an event writes a missing one as null)')
  return writeJsonText(referenceTree(snapshot, '', new ReferenceAncestors()), { sortKeys: true })
}

function referenceTree(value: unknown, path: string, ancestors: ReferenceAncestors): JsonTree {
  const kind = referenceKindOf(value, path)
  switch (kind) {
    case 'absent':
      throw new Error(`snapshotToJsonTree: nothing at ${where(path)}`)
    case 'string':
    case 'boolean':
    case 'null':
      return value as string | boolean | null
    case 'number':
      return new JsonNumber(typeof value === 'bigint' ? value.toString() : JSON.stringify(value))
    case 'date':
      return (value as Date).toISOString()
    case 'array': {
      const array = value as readonly unknown[]
      ancestors.enter(array, path)
      const items: JsonTree[] = []
      for (let index = 0; index < array.length; index++) {
        const itemPath = appendToPath(path, index)
        items.push(referenceTree(referenceItem(array, index, itemPath), itemPath, ancestors))
      }
      ancestors.leave(array)
      return items
    }
    case 'object': {
      const object = value as object
      ancestors.enter(object, path)
      const members = new Map<string, JsonTree>()
      for (const [key, member] of referenceMembers(object)) {
        members.set(key, referenceTree(member, appendToPath(path, key), ancestors))
      }
      ancestors.leave(object)
      return members
    }
  }
}

function referenceDiff(before: unknown, after: unknown, options: DiffOptions = {}): FieldChange[] {
  const comparesWhole = referenceWholeComparisonRule(options)
  const beforeAncestors = new ReferenceAncestors()
  const afterAncestors = new ReferenceAncestors()
  const changes: FieldChange[] = []
  const textOf = (value: unknown, path: string, ancestors: ReferenceAncestors): string =>
    writeJsonText(referenceTree(value, path, ancestors), { sortKeys: true })

  const diffAt = (oldValue: unknown, newValue: unknown, segments: PathSegment[], path: string): void => {
    const oldKind = referenceKindOf(oldValue, path)
    const newKind = referenceKindOf(newValue, path)
    const sameContainerKind = oldKind === newKind && (oldKind === 'object' || oldKind === 'array')
    if (sameContainerKind && !comparesWhole(oldKind, segments)) {
      diffContainers(oldValue as object, newValue as object, segments, path)
      return
    }
    const valueType = newKind !== 'absent' ? newKind : oldKind
    if (valueType === 'absent') return
    const oldText = oldKind === 'absent' ? null : textOf(oldValue, path, beforeAncestors)
    const newText = newKind === 'absent' ? null : textOf(newValue, path, afterAncestors)
    if (oldKind === newKind && oldText === newText) return
    changes.push({ path, old_value: oldText, new_value: newText, value_type: valueType })
  }

  const diffContainers = (
    oldContainer: object,
    newContainer: object,
    segments: PathSegment[],
    path: string,
  ) => {
    beforeAncestors.enter(oldContainer, path)
    afterAncestors.enter(newContainer, path)
    if (Array.isArray(oldContainer) && Array.isArray(newContainer)) {
      for (let index = 0; index < Math.max(oldContainer.length, newContainer.length); index++) {
        const itemPath = appendToPath(path, index)
        const oldItem = index < oldContainer.length ? referenceItem(oldContainer, index, itemPath) : undefined
        const newItem = index < newContainer.length ? referenceItem(newContainer, index, itemPath) : undefined
        diffAt(oldItem, newItem, [...segments, index], itemPath)
      }
    } else {
      const oldMembers = referenceMembers(oldContainer)
      const newMembers = referenceMembers(newContainer)
      const keys = [...new Set([...oldMembers.keys(), ...newMembers.keys()])].sort(compareKeys)
      for (const key of keys) {
        diffAt(oldMembers.get(key), newMembers.get(key), [...segments, key], appendToPath(path, key))
      }
    }
    beforeAncestors.leave(oldContainer)
    afterAncestors.leave(newContainer)
  }

  diffAt(referenceRecord(before, 'before'), referenceRecord(after, 'after'), [], '')
  return changes
}

function referenceWholeComparisonRule(
  options: DiffOptions,
): (kind: 'object' | 'array', segments: PathSegment[]) => boolean {
  const { arrays = 'by-index', maxDepth = Infinity, wholeAt = [] } = options
  if (arrays !== 'by-index' && arrays !== 'whole') {
    throw new RangeError(`arrays must be 'by-index' or 'whole', got ${JSON.stringify(arrays)}`)
  }
  if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 1))) {
    throw new RangeError(`maxDepth must be a whole number of at least 1, got ${maxDepth}`)
  }
  const wholePatterns = wholeAt.map(parsePathPattern)
  return (kind, segments) =>
    (kind === 'array' && arrays === 'whole') ||
    segments.length >= maxDepth ||
    coversPath(wholePatterns, segments)
}

function unsupported(path: string, problem: string): JsonValueError {
  return new JsonValueError(
    'UNSUPPORTED_VALUE',
    path,
    `${problem}, which has no JSON form; convert it to plain data first`,
  )
}

function where(path: string): string {
  return path === '' ? 'the snapshot' : path
}

/** What a call did: its result, or the error it threw, described by everything a caller can read. */
function outcome(run: () => unknown): unknown {
  try {
    return { returned: run() }
  } catch (error) {
    if (!(error instanceof Error)) throw error
    const { name, message } = error
    if (!(error instanceof JsonValueError)) return { threw: { class: error.constructor.name, name, message } }
    const { code, path, retriable } = error
    return { threw: { class: 'JsonValueError', name, message, code, path, retriable } }
  }
}

/*
 * Snapshots with everything the rules speak of: keys that need quoting, shadow Object.prototype or
 * are array-index-like (own-key order puts those first), strings JSON escapes (quotes, control
 * characters, lone surrogates), -0, bigints, Dates at the ends of time, null prototypes, objects
 * large enough to be sorted another way, and every value the rules refuse: non-finite numbers,
 * invalid Dates, functions, symbols, class instances, symbol keys, undefined items and holes.
 * Cycles and shared containers are added afterwards (withLinks).
 */
const character = fc.oneof(
  fc.constantFrom('a', 'b', 'B', 'z', '_', '-', '.', ' ', '0', '9'),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '😀', '\ud800', '\udfff'),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
)
const text = fc.string({ unit: character, maxLength: 5 })
const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('id', 'name', 'tags', 'address', 'city', 'Z', 'a', 'b') },
  { weight: 2, arbitrary: fc.constantFrom('e.mail', 'x y', '', '0', '1', '10', '__proto__', 'constructor') },
  { weight: 1, arbitrary: text },
)

class Money {
  constructor(readonly cents: number) {}
}
const refused = fc.constantFrom<() => unknown>(
  () => NaN,
  () => Infinity,
  () => -Infinity,
  () => new Date(NaN),
  () => () => 1,
  () => Symbol('s'),
  () => new Map(),
  () => new Money(1),
  () => new String('x'),
  () => ({ [Symbol('k')]: 1 }),
  () => undefined,
)
const accepted = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.double(),
  fc.constantFrom(-0, 0, 1e21, 5e-324, 2 ** 53),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom(1n, 0n),
  text,
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(8.64e15, -8.64e15, 0).map((ms) => new Date(ms)),
)
const leaf = fc.oneof(
  { weight: 40, arbitrary: accepted },
  { weight: 1, arbitrary: refused.map((make) => make()) },
)

const { value, object } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.oneof(
    { weight: 12, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.sparseArray(tie('value'), { maxLength: 4 }) },
  ),
  object: fc.oneof(
    { weight: 8, arbitrary: tie('members') },
    {
      weight: 1,
      arbitrary: tie('members').map((members) => Object.assign(Object.create(null) as object, members)),
    },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.string({ maxLength: 3 }), leaf, { minKeys: 30, maxKeys: 40 }),
    },
    {
      weight: 1,
      arbitrary: tie('members').map((members) =>
        Object.defineProperty(members, Symbol('hidden'), { value: 1, enumerable: false }),
      ),
    },
  ),
  members: fc.dictionary(key, fc.option(tie('value'), { nil: undefined, freq: 6 }), { maxKeys: 5 }),
})) as { value: fc.Arbitrary<unknown>; object: fc.Arbitrary<object> }

const isPlainObject = (candidate: unknown): candidate is Record<string, unknown> =>
  typeof candidate === 'object' &&
  candidate !== null &&
  !Array.isArray(candidate) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(candidate) as object | null)

/** Sets a member without assigning (an assignment to __proto__ would change the prototype). */
const setMember = (object: object, name: string, member: unknown) =>
  Object.defineProperty(object, name, { value: member, writable: true, enumerable: true, configurable: true })

/** `base` with `over` laid over it, sharing every container it does not change, as updates do. */
function updated(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over
  const result = { ...base }
  for (const name of Object.keys(over)) {
    setMember(result, name, updated(Object.hasOwn(base, name) ? base[name] : undefined, over[name]))
  }
  return result
}

/**
 * Copies of both snapshots (fast-check may generate a value again while shrinking, so it is not
 * changed in place), in which `links` then make containers hold other containers of either
 * snapshot: shared values where the target is elsewhere, cycles where it is an ancestor.
 */
function withLinks(pair: [unknown, unknown], links: readonly [number, number, string][]): [unknown, unknown] {
  const copies = new Map<object, object>()
  const copy = (original: unknown): unknown => {
    if (typeof original !== 'object' || original === null) return original
    if (!Array.isArray(original) && !isPlainObject(original)) return original
    const known = copies.get(original)
    if (known !== undefined) return known
    const result: object = Array.isArray(original)
      ? new Array<unknown>(original.length)
      : (Object.create(Object.getPrototypeOf(original) as object | null) as object)
    copies.set(original, result)
    for (const name of Reflect.ownKeys(original)) {
      if (name === 'length') continue
      const descriptor = Object.getOwnPropertyDescriptor(original, name)!
      Object.defineProperty(result, name, { ...descriptor, value: copy(descriptor.value) })
    }
    return result
  }
  const copied: [unknown, unknown] = [copy(pair[0]), copy(pair[1])]
  const containers = [...new Set(copies.values())]
  if (containers.length === 0) return copied
  for (const [from, to, name] of links) {
    const container = containers[from % containers.length]!
    const target = containers[to % containers.length]!
    if (Array.isArray(container)) container[from % (container.length + 1)] = target
    else setMember(container, name, target)
  }
  return copied
}

const root = fc.oneof(
  { weight: 10, arbitrary: object },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: value },
)
const links = fc.array(fc.tuple(fc.nat(), fc.nat(), key), { maxLength: 2 })
const pair = fc
  .tuple(
    fc.oneof(
      { weight: 2, arbitrary: fc.tuple(root, root) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(root, root)
          .map(([base, over]): [unknown, unknown] => [base, updated(base, over)]),
      },
      { weight: 1, arbitrary: root.map((same): [unknown, unknown] => [same, same]) },
    ),
    fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: links }),
  )
  .map(([snapshots, added]) => withLinks(snapshots, added))

const options: fc.Arbitrary<DiffOptions> = fc.record(
  {
    arrays: fc.constantFrom('by-index', 'whole'),
    maxDepth: fc.integer({ min: 1, max: 3 }),
    wholeAt: fc.array(
      fc.constantFrom(
        'id',
        'tags',
        'address',
        'address.city',
        'tags[*]',
        'a[*].b',
        '["e.mail"]',
        '__proto__',
      ),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
)

describe('the fast diffValues and snapshotJsonText against the reference', () => {
  it('write the same text, or refuse with the same error', () => {
    fc.assert(
      fc.property(pair, ([snapshot]) => {
        expect(outcome(() => snapshotJsonText(snapshot))).toEqual(
          outcome(() => referenceSnapshotText(snapshot)),
        )
      }),
      { numRuns: 1000 },
    )
  })

  it('find the same changes, or refuse with the same error', () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        expect(outcome(() => diffValues(before, after))).toEqual(outcome(() => referenceDiff(before, after)))
      }),
      { numRuns: 1000 },
    )
  })

  it('find the same changes whatever the options', () => {
    fc.assert(
      fc.property(pair, options, ([before, after], diffOptions) => {
        expect(outcome(() => diffValues(before, after, diffOptions))).toEqual(
          outcome(() => referenceDiff(before, after, diffOptions)),
        )
      }),
      { numRuns: 500 },
    )
  })

  it.each<[string, unknown, unknown]>([
    ['two refused members, not in key order', {}, { b: NaN, a: Symbol('a') }],
    ['a refused member under one that changed', { a: { x: 1 } }, { a: { y: NaN, x: 2 } }],
    ['a shared member holding its snapshot', ...sharedCycle()],
    ['a value refused only on one side', { n: 1, m: [1, undefined] }, { n: 2, m: [1, 2] }],
    ['keys that sort differently as JSON text', { 'a!': 1, a: 1, 'a\u0000': 1 }, { a: 2, 'a!': 2 }],
  ])('on %s', (_, before, after) => {
    expect(outcome(() => diffValues(before, after))).toEqual(outcome(() => referenceDiff(before, after)))
    expect(outcome(() => snapshotJsonText(after))).toEqual(outcome(() => referenceSnapshotText(after)))
  })
})

/** A container both snapshots share, inside which is the `after` snapshot itself. */
function sharedCycle(): [unknown, unknown] {
  const shared: Record<string, unknown> = {}
  const after = { shared, n: 2 }
  shared['back'] = after
  return [{ shared, n: 1 }, after]
}
