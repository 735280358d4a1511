import type { FieldChange } from './auditEvent.js'
import { presentMembers, sortMembers } from './jsonValueMembers.js'
import { compareKeys, formatPath, type PathSegment } from './jsonValuePath.js'
import { coversPath, parsePathPatterns } from './jsonValuePathPatterns.js'
import {
  Ancestors,
  arrayItem,
  canonicalJsonText,
  recordSnapshot,
  snapshotKindOf,
  type SnapshotKind,
} from './jsonValueSnapshot.js'

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
  const diff = new SnapshotDiff(wholeComparisonRule(options))
  // recordSnapshot has checked both roots, and no option compares the root whole (maxDepth is at
  // least 1, a wholeAt pattern names a field), so the walk starts at the roots' members.
  diff.compareContainers(recordSnapshot(before, 'before'), recordSnapshot(after, 'after'))
  return diff.changes
}

/** Whether the containers at `path` are compared whole rather than member by member (options). */
type WholeComparisonRule = (kind: 'object' | 'array', path: readonly PathSegment[]) => boolean

/** One diff in progress: where it is in both snapshots, and the changes found so far. */
class SnapshotDiff {
  readonly changes: FieldChange[] = []
  /**
   * The path of the two values being compared, as a stack of segments: formatted only for a
   * change or a refusal, since most values of a record are neither.
   */
  private readonly path: PathSegment[] = []
  private readonly beforeAncestors = new Ancestors()
  private readonly afterAncestors = new Ancestors()

  constructor(private readonly comparesWhole: WholeComparisonRule) {}

  /** The values at the current path; `undefined` where a snapshot has no such field or item. */
  private compare(oldValue: unknown, newValue: unknown): void {
    if (oldValue === newValue) {
      this.checkShared(oldValue)
      return
    }
    const oldKind = snapshotKindOf(oldValue, this.path)
    const newKind = snapshotKindOf(newValue, this.path)
    const sameContainerKind = oldKind === newKind && (oldKind === 'object' || oldKind === 'array')
    if (sameContainerKind && !this.comparesWhole(oldKind, this.path)) {
      this.compareContainers(oldValue as object, newValue as object)
      return
    }
    this.compareWhole(oldValue, oldKind, newValue, newKind)
  }

  /**
   * compare(value, value), for a value both snapshots hold: an unchanged leaf, or a container an
   * update left as it was (`{ ...before, status }` shares every other field). Nothing in it can
   * have changed, so no text is written, but everything is checked as compare would check it: in
   * the same order, against both sides' ancestors.
   */
  private checkShared(value: unknown): void {
    const kind = snapshotKindOf(value, this.path)
    if (kind !== 'object' && kind !== 'array') return
    if (this.comparesWhole(kind, this.path)) {
      this.compareWhole(value, kind, value, kind)
      return
    }
    this.beforeAncestors.enter(value as object, this.path)
    this.afterAncestors.enter(value as object, this.path)
    if (kind === 'array') {
      const array = value as readonly unknown[]
      for (let index = 0; index < array.length; index++) {
        this.path.push(index)
        this.checkShared(arrayItem(array, index, this.path))
        this.path.pop()
      }
    } else {
      const { keys, values } = presentMembers(value as object)
      sortMembers({ keys, values })
      for (let i = 0; i < keys.length; i++) {
        this.path.push(keys[i]!)
        this.checkShared(values[i])
        this.path.pop()
      }
    }
    this.beforeAncestors.leave()
    this.afterAncestors.leave()
  }

  /** One change carrying both whole values, unless they are of the same kind with the same text. */
  private compareWhole(oldValue: unknown, oldKind: SnapshotKind, newValue: unknown, newKind: SnapshotKind) {
    const valueType = newKind !== 'absent' ? newKind : oldKind
    if (valueType === 'absent') return
    const oldText = oldKind === 'absent' ? null : canonicalJsonText(oldValue, this.path, this.beforeAncestors)
    const newText = newKind === 'absent' ? null : canonicalJsonText(newValue, this.path, this.afterAncestors)
    if (oldKind === newKind && oldText === newText) return
    this.changes.push({
      path: formatPath(this.path),
      old_value: oldText,
      new_value: newText,
      value_type: valueType,
    })
  }

  /** Two objects or two arrays, member by member (or item by item) below the current path. */
  compareContainers(oldContainer: object, newContainer: object): void {
    this.beforeAncestors.enter(oldContainer, this.path)
    this.afterAncestors.enter(newContainer, this.path)
    if (Array.isArray(oldContainer) && Array.isArray(newContainer)) {
      this.compareArrays(oldContainer, newContainer)
    } else {
      this.compareObjects(oldContainer, newContainer)
    }
    this.beforeAncestors.leave()
    this.afterAncestors.leave()
  }

  private compareArrays(oldArray: readonly unknown[], newArray: readonly unknown[]): void {
    const length = Math.max(oldArray.length, newArray.length)
    for (let index = 0; index < length; index++) {
      this.path.push(index)
      const oldItem = index < oldArray.length ? arrayItem(oldArray, index, this.path) : undefined
      const newItem = index < newArray.length ? arrayItem(newArray, index, this.path) : undefined
      this.compare(oldItem, newItem)
      this.path.pop()
    }
  }

  /** Member by member in key order: both lists sorted, then walked side by side as in a merge. */
  private compareObjects(oldObject: object, newObject: object): void {
    const oldMembers = presentMembers(oldObject)
    const newMembers = presentMembers(newObject)
    sortMembers(oldMembers)
    sortMembers(newMembers)
    let oldAt = 0
    let newAt = 0
    while (oldAt < oldMembers.keys.length || newAt < newMembers.keys.length) {
      const oldKey = oldMembers.keys[oldAt]
      const newKey = newMembers.keys[newAt]
      // Negative: the key is only in the old object; positive: only in the new one; 0: in both.
      const order = oldKey === undefined ? 1 : newKey === undefined ? -1 : compareKeys(oldKey, newKey)
      this.path.push(order <= 0 ? oldKey! : newKey!)
      this.compare(
        order <= 0 ? oldMembers.values[oldAt++] : undefined,
        order >= 0 ? newMembers.values[newAt++] : undefined,
      )
      this.path.pop()
    }
  }
}

function wholeComparisonRule(options: DiffOptions): WholeComparisonRule {
  const { arrays = 'by-index', maxDepth = Infinity, wholeAt = [] } = options
  if (arrays !== 'by-index' && arrays !== 'whole') {
    throw new RangeError(`arrays must be 'by-index' or 'whole', got ${JSON.stringify(arrays)}`)
  }
  if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 1))) {
    throw new RangeError(`maxDepth must be a whole number of at least 1, got ${maxDepth}`)
  }
  const wholePatterns = parsePathPatterns(wholeAt)
  return (kind, path) =>
    (kind === 'array' && arrays === 'whole') || path.length >= maxDepth || coversPath(wholePatterns, path)
}
