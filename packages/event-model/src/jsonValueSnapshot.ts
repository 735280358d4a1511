import type { ValueType } from './auditEvent.js'
import { maxJsonNestingDepth } from './jsonNesting.js'
import { JsonValueError } from './jsonValueError.js'
import { presentMembers, sortMembers, type Members } from './jsonValueMembers.js'
import { pathText, type PathSegment, type ValuePath } from './jsonValuePath.js'

/**
 * Snapshots as a producer holds them: JavaScript values about to be described as JSON. What has a
 * faithful JSON form is accepted; everything else is refused with the path where it sits, because
 * JSON.stringify's answer (drop it, or write null) would record something that did not happen.
 *
 * - `undefined`, as an object member, is a missing key ("the field does not exist").
 * - `null` is a value.
 * - A Date is its ISO-8601 text (`toISOString`); an invalid Date is refused.
 * - A bigint is a JSON number with all its digits; a number is written as JSON.stringify writes
 *   it, so -0 is 0. Non-finite numbers are refused.
 * - Plain objects (prototype Object.prototype or null) and arrays are containers; an `undefined`
 *   item or a hole in an array is refused (JSON would turn it into null).
 * - Functions, symbols, symbol-keyed members, instances of any other class (Map, Set, Buffer,
 *   boxed primitives, your own classes) and cycles are refused: convert them to plain data first.
 */

/** What sits at a path: one of the event's value types, or nothing. */
export type SnapshotKind = ValueType | 'absent'

export function snapshotKindOf(value: unknown, path: ValuePath): SnapshotKind {
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
          pathText(path),
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
        pathText(path),
        `${where(path)} is an invalid Date, which has no ISO text`,
      )
    }
    return 'date'
  }
  const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null
  if (prototype !== Object.prototype && prototype !== null) {
    throw unsupported(path, `${where(path)} is an instance of ${prototype.constructor?.name || 'a class'}`)
  }
  if (hasEnumerableSymbolKey(value as object)) throw unsupported(path, `${where(path)} has symbol keys`)
  return 'object'
}

function hasEnumerableSymbolKey(object: object): boolean {
  for (const key of Object.getOwnPropertySymbols(object)) {
    if (Object.prototype.propertyIsEnumerable.call(object, key)) return true
  }
  return false
}

/**
 * A whole snapshot of a record: a plain object, or `undefined` for a record that does not exist,
 * read as an object without fields. `side` names it in the error (`before`).
 */
export function recordSnapshot(snapshot: unknown, side: string): object {
  const kind = snapshotKindOf(snapshot, '')
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

/** An array's item, refusing holes and `undefined`, which JSON would silently turn into null. */
export function arrayItem(array: readonly unknown[], index: number, path: ValuePath): unknown {
  const item = array[index]
  if (item === undefined) {
    const text = pathText(path)
    throw new JsonValueError(
      'UNSUPPORTED_VALUE',
      text,
      `${text} is undefined or a hole in an array, which JSON would turn into null; use null if that is meant`,
    )
  }
  return item
}

/**
 * The containers on the way from the snapshot to the current path, to notice a cycle. A stack
 * rather than a Set: snapshots are a few levels deep, and scanning a few entries costs less than
 * creating and updating a Set for every snapshot.
 */
export class Ancestors {
  private readonly containers: object[] = []

  /**
   * Every walk of a value enters its containers here, so this is where a value nested past
   * maxJsonNestingDepth is refused (TOO_DEEP, as its JSON text would be), before the walk's
   * recursion could overflow the stack.
   */
  enter(container: object, path: ValuePath): void {
    if (this.containers.length >= maxJsonNestingDepth) {
      throw new JsonValueError(
        'TOO_DEEP',
        pathText(path),
        `${where(path)} nests objects and arrays more than ${maxJsonNestingDepth} levels deep`,
      )
    }
    if (this.containers.includes(container)) {
      throw new JsonValueError(
        'CYCLE',
        pathText(path),
        `${where(path)} is a container it is itself inside (a cycle), which JSON cannot represent`,
      )
    }
    this.containers.push(container)
  }

  /** Leaves the container entered last: walks leave containers in the order opposite to entering them. */
  leave(): void {
    this.containers.pop()
  }
}

/**
 * The canonical JSON text of a snapshot (keys sorted, no whitespace), as diffValues writes values:
 * for an event's `before` and `after`, so they follow the same rules as its changes.
 */
export function snapshotJsonText(snapshot: unknown): string {
  if (snapshot === undefined)
    throw unsupported('', 'the snapshot is undefined (an event writes a missing one as null)')
  return canonicalJsonText(snapshot, [], new Ancestors())
}

/**
 * The canonical JSON text of the value at `path`, checked all the way down. It is written straight
 * from the value: building a JsonTree first (a Map per object) and writing that took most of the
 * time a producer spent on an event's snapshots.
 *
 * `path` is a stack of segments shared with the caller: the walk pushes a member's segment while
 * it writes the member and pops it after, so a refusal names the member's path and no path is
 * formatted otherwise.
 *
 * Each container's text is joined from its members' (Array.prototype.join makes a flat string),
 * not appended to piece by piece: `+=` makes a rope of small strings, and an event keeps its
 * snapshots until its batch is sent, so the garbage collector would copy every piece again.
 */
export function canonicalJsonText(value: unknown, path: PathSegment[], ancestors: Ancestors): string {
  const kind = snapshotKindOf(value, path)
  switch (kind) {
    case 'absent':
      throw new Error(`canonicalJsonText: nothing at ${where(path)}`) // callers skip absent values
    case 'string':
      return jsonStringText(value as string)
    case 'number':
    case 'boolean':
    case 'null':
      // For a finite number String gives JSON.stringify's text (-0 is 0); for a bigint, all its digits.
      return String(value)
    case 'date':
      // ISO text (digits, -, +, :, T, . and Z) has no character JSON escapes.
      return `"${(value as Date).toISOString()}"`
    case 'array':
      return arrayJsonText(value as readonly unknown[], path, ancestors)
    case 'object':
      return objectJsonText(value as object, path, ancestors)
  }
}

function arrayJsonText(array: readonly unknown[], path: PathSegment[], ancestors: Ancestors): string {
  ancestors.enter(array, path)
  const items: string[] = []
  for (let index = 0; index < array.length; index++) {
    path.push(index)
    items.push(canonicalJsonText(arrayItem(array, index, path), path, ancestors))
    path.pop()
  }
  ancestors.leave()
  return `[${items.join(',')}]`
}

function objectJsonText(object: object, path: PathSegment[], ancestors: Ancestors): string {
  ancestors.enter(object, path)
  const { keys, values } = presentMembers(object)
  // Members are checked in own-key order, as they always were, so that of two refused members the
  // same one is reported; their texts are then put in key order.
  const written: Members<string> = { keys, values: [] }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    path.push(key)
    written.values.push(`${jsonStringText(key)}:${canonicalJsonText(values[i], path, ancestors)}`)
    path.pop()
  }
  ancestors.leave()
  sortMembers(written)
  return `{${written.values.join(',')}}`
}

/**
 * Any code unit JSON.stringify may write otherwise than as itself: a quote, a backslash, a control
 * character, a surrogate (escaped when lone). Written as the complement of the safe ranges.
 */
const escapedCharacter = /[^\u0020\u0021\u0023-\u005b\u005d-\ud7ff\ue000-\uffff]/

/**
 * JSON.stringify's text for a string. Keys and values are mostly plain text, which needs only its
 * quotes: checking for that is several times faster than a call to JSON.stringify.
 */
function jsonStringText(string: string): string {
  return escapedCharacter.test(string) ? JSON.stringify(string) : `"${string}"`
}

function unsupported(path: ValuePath, problem: string): JsonValueError {
  return new JsonValueError(
    'UNSUPPORTED_VALUE',
    pathText(path),
    `${problem}, which has no JSON form; convert it to plain data first`,
  )
}

function where(path: ValuePath): string {
  const text = pathText(path)
  return text === '' ? 'the snapshot' : text
}
