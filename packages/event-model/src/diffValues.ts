import type { FieldChange } from './auditEvent.js'
import { appendToPath, compareKeys, type PathSegment } from './jsonValuePath.js'
import { coversPath, parsePathPatterns } from './jsonValuePathPatterns.js'
import {
  Ancestors,
  arrayItem,
  presentMembers,
  recordSnapshot,
  snapshotKindOf,
  snapshotToJsonTree,
} from './jsonValueSnapshot.js'
import { writeJsonText } from './jsonValueTree.js'

export type DiffOptions = {
  /**
   * How arrays are compared. `by-index` (default): item by item, `tags[2]`, items added or removed
   * at the end appearing as added or removed. `whole`: one change carrying both whole arrays, for
   * lists whose items shift (inserting at the front would otherwise change every index).
   */
  arrays?: 'by-index' | 'whole'
  /**
   * Objects and arrays at this many path segments are compared whole: 1 reports top-level fields
   * only. Default: no limit.
   */
  maxDepth?: number
  /**
   * Path patterns (`[*]` for any index) whose values are compared and reported whole: one change
   * at the pattern's path. Pass the sensitive fields here when keys under them are data (a map
   * keyed by e-mail address), so that no change path reveals them.
   */
  wholeAt?: readonly string[]
}

/**
 * The field-level changes between two snapshots of a record, one per changed leaf, sorted by path
 * (jsonValuePath.ts: keys in code-unit order, indexes numerically).
 *
 * - Snapshots are plain objects; `undefined` is a record that does not exist, so creating or
 *   deleting one lists every field as added or removed. The values they may hold, and those
 *   refused with a JsonValueError naming the path, are described in jsonValueSnapshot.ts.
 *   Everything is checked, changed or not, so a bad value fails the first time, not the first
 *   time it changes.
 * - Values are canonical JSON text (object keys sorted), so equal values have equal text.
 *   `old_value` null: the field did not exist; `new_value` null: it was removed.
 * - A change's value is a leaf, or a whole object or array when it appeared, disappeared, replaced
 *   a value of another kind (object to string, array to object) or is compared whole (options).
 *   Inside such a whole value a Date is just its ISO text: value_type describes the top only.
 * - Leaves are equal when their kind and JSON text are: Dates by time; 1n and 1 are equal; a Date
 *   and its ISO string are not (the change's value_type says which it became). Values compared
 *   whole are equal when their JSON text is.
 * - `value_type` is the new value's type, or the old one's when the field was removed.
 */
export function diffValues(before: unknown, after: unknown, options: DiffOptions = {}): FieldChange[] {
  const comparesWhole = wholeComparisonRule(options)
  const beforeAncestors = new Ancestors()
  const afterAncestors = new Ancestors()
  const changes: FieldChange[] = []

  const diffAt = (oldValue: unknown, newValue: unknown, segments: PathSegment[], path: string): void => {
    const oldKind = snapshotKindOf(oldValue, path)
    const newKind = snapshotKindOf(newValue, path)
    const sameContainerKind = oldKind === newKind && (oldKind === 'object' || oldKind === 'array')
    if (sameContainerKind && !comparesWhole(oldKind, segments)) {
      diffContainers(oldValue as object, newValue as object, segments, path)
      return
    }
    const valueType = newKind !== 'absent' ? newKind : oldKind
    if (valueType === 'absent') return
    const oldText = oldKind === 'absent' ? null : jsonTextOf(oldValue, path, beforeAncestors)
    const newText = newKind === 'absent' ? null : jsonTextOf(newValue, path, afterAncestors)
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
        const oldItem = index < oldContainer.length ? arrayItem(oldContainer, index, itemPath) : undefined
        const newItem = index < newContainer.length ? arrayItem(newContainer, index, itemPath) : undefined
        diffAt(oldItem, newItem, [...segments, index], itemPath)
      }
    } else {
      const oldMembers = presentMembers(oldContainer)
      const newMembers = presentMembers(newContainer)
      const keys = [...new Set([...oldMembers.keys(), ...newMembers.keys()])].sort(compareKeys)
      for (const key of keys) {
        diffAt(oldMembers.get(key), newMembers.get(key), [...segments, key], appendToPath(path, key))
      }
    }
    beforeAncestors.leave(oldContainer)
    afterAncestors.leave(newContainer)
  }

  diffAt(recordSnapshot(before, 'before'), recordSnapshot(after, 'after'), [], '')
  return changes
}

function jsonTextOf(value: unknown, path: string, ancestors: Ancestors): string {
  return writeJsonText(snapshotToJsonTree(value, path, ancestors), { sortKeys: true })
}

function wholeComparisonRule(
  options: DiffOptions,
): (kind: 'object' | 'array', segments: PathSegment[]) => boolean {
  const { arrays = 'by-index', maxDepth = Infinity, wholeAt = [] } = options
  if (arrays !== 'by-index' && arrays !== 'whole') {
    throw new RangeError(`arrays must be 'by-index' or 'whole', got ${JSON.stringify(arrays)}`)
  }
  if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 1))) {
    throw new RangeError(`maxDepth must be a whole number of at least 1, got ${maxDepth}`)
  }
  const wholePatterns = parsePathPatterns(wholeAt)
  return (kind, segments) =>
    (kind === 'array' && arrays === 'whole') ||
    segments.length >= maxDepth ||
    coversPath(wholePatterns, segments)
}
