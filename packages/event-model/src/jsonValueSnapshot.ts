import type { ValueType } from './auditEvent.js'
import { JsonValueError } from './jsonValueError.js'
import { appendToPath } from './jsonValuePath.js'
import { JsonNumber, writeJsonText, type JsonTree } from './jsonValueTree.js'

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

export function snapshotKindOf(value: unknown, path: string): SnapshotKind {
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

/** The members of a plain object that exist: own enumerable string keys whose value is not undefined. */
export function presentMembers(object: object): Map<string, unknown> {
  return new Map(Object.entries(object).filter(([, value]) => value !== undefined))
}

/** An array's item, refusing holes and `undefined`, which JSON would silently turn into null. */
export function arrayItem(array: readonly unknown[], index: number, path: string): unknown {
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

/** The containers on the way from the snapshot to the current path, to notice a cycle. */
export class Ancestors {
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

/**
 * The canonical JSON text of a snapshot (keys sorted, no whitespace), as diffValues writes values:
 * for an event's `before` and `after`, so they follow the same rules as its changes.
 */
export function snapshotJsonText(snapshot: unknown): string {
  if (snapshot === undefined)
    throw unsupported('', 'the snapshot is undefined (an event writes a missing one as null)')
  return writeJsonText(snapshotToJsonTree(snapshot, '', new Ancestors()), { sortKeys: true })
}

/** The whole value at `path` as a JsonTree, checked all the way down. */
export function snapshotToJsonTree(value: unknown, path: string, ancestors: Ancestors): JsonTree {
  const kind = snapshotKindOf(value, path)
  switch (kind) {
    case 'absent':
      throw new Error(`snapshotToJsonTree: nothing at ${where(path)}`) // callers skip absent values
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
        items.push(snapshotToJsonTree(arrayItem(array, index, itemPath), itemPath, ancestors))
      }
      ancestors.leave(array)
      return items
    }
    case 'object': {
      const object = value as object
      ancestors.enter(object, path)
      const members = new Map<string, JsonTree>()
      for (const [key, member] of presentMembers(object)) {
        members.set(key, snapshotToJsonTree(member, appendToPath(path, key), ancestors))
      }
      ancestors.leave(object)
      return members
    }
  }
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
