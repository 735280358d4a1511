import type { FieldChange } from './auditEvent.js'
import { JsonValueError } from './jsonValueError.js'
import { appendToPath, compareSegmentLists, parsePath, type PathSegment } from './jsonValuePath.js'
import { recordSnapshot, snapshotKindOf } from './jsonValueSnapshot.js'

/**
 * Applies a change list to a snapshot and returns the new snapshot: the inverse of diffValues,
 * for tests and for consumers rebuilding a record from its history. `before` is not modified;
 * `undefined` is a record that does not exist yet.
 *
 * Values are read as JSON.parse reads them, except that a value whose value_type is `date` becomes
 * a Date again. (Dates inside a whole object or array stay ISO strings: the event does not say
 * which strings were Dates. Integers beyond 2^53 lose digits, as with any JSON.parse.)
 *
 * The change list must fit the snapshot, or a JsonValueError CHANGE_NOT_APPLICABLE names the
 * change: an added field (old_value null) must not exist yet, a changed or removed one must; the
 * path up to it must exist; array items are added or removed at the end only. Removals are applied
 * from the last path to the first and everything else from the first to the last, so the order of
 * the list does not matter. Old values are not compared with the snapshot: only whether they exist.
 */
export function applyChanges(before: unknown, changes: readonly FieldChange[]): Record<string, unknown> {
  // A copy to work on; structuredClone keeps Dates as Dates.
  const snapshot = structuredClone(recordSnapshot(before, 'before')) as Record<string, unknown>
  const steps = changes.map(readStep)
  const removals = steps.filter((step) => step.kind === 'remove').sort((a, b) => compareSteps(b, a))
  const others = steps.filter((step) => step.kind !== 'remove').sort(compareSteps)
  for (const step of [...removals, ...others]) applyStep(snapshot, step)
  return snapshot
}

type Step = {
  /** Which change, for error messages: `changes[3] (tags[5])`. */
  label: string
  path: string
  segments: PathSegment[]
} & ({ kind: 'remove' } | { kind: 'add' | 'replace'; value: unknown })

function readStep(change: FieldChange, index: number): Step {
  const label = `changes[${index}] (${change.path})`
  const segments = parsePath(change.path)
  const base = { label, path: change.path, segments }
  if (change.new_value === null) {
    if (change.old_value === null) notApplicable(base, 'has neither an old nor a new value')
    return { ...base, kind: 'remove' }
  }
  const value = readValue(change.new_value, change.value_type, base, `changes[${index}].new_value`)
  return { ...base, kind: change.old_value === null ? 'add' : 'replace', value }
}

function readValue(
  text: string,
  valueType: string,
  step: Pick<Step, 'label' | 'path'>,
  field: string,
): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new JsonValueError('INVALID_JSON_TEXT', field, `${field} is not JSON text`, { cause: error })
  }
  if (valueType !== 'date') return value
  const date = typeof value === 'string' ? new Date(value) : undefined
  if (date === undefined || Number.isNaN(date.getTime())) {
    notApplicable(step, 'has value_type date but no ISO time')
  }
  return date
}

function compareSteps(a: Step, b: Step): number {
  return compareSegmentLists(a.segments, b.segments)
}

function applyStep(snapshot: Record<string, unknown>, step: Step): void {
  let value: unknown = snapshot
  let valuePath = ''
  for (const segment of step.segments.slice(0, -1)) {
    const container = containerFor(value, segment, step, valuePath)
    value = Object.hasOwn(container, segment)
      ? (container as Record<PathSegment, unknown>)[segment]
      : undefined
    valuePath = appendToPath(valuePath, segment)
  }
  const last = step.segments[step.segments.length - 1]!
  const container = containerFor(value, last, step, valuePath)
  if (Array.isArray(container)) {
    applyToArray(container, last as number, step)
  } else {
    applyToObject(container, last as string, step)
  }
}

function applyToArray(array: unknown[], index: number, step: Step): void {
  if (step.kind === 'add') {
    if (index !== array.length) {
      notApplicable(step, `adds item ${index} to an array of ${array.length}; items are added at the end`)
    }
    array.push(step.value)
  } else if (step.kind === 'remove') {
    if (index !== array.length - 1) {
      notApplicable(
        step,
        `removes item ${index} from an array of ${array.length}; items are removed from the end`,
      )
    }
    array.pop()
  } else {
    if (index >= array.length) notApplicable(step, `changes item ${index} of an array of ${array.length}`)
    array[index] = step.value
  }
}

function applyToObject(object: Record<string, unknown>, key: string, step: Step): void {
  const exists = Object.hasOwn(object, key) && object[key] !== undefined
  if (step.kind === 'add' && exists) notApplicable(step, 'adds a field that already exists')
  if (step.kind !== 'add' && !exists) {
    notApplicable(step, `${step.kind === 'remove' ? 'removes' : 'changes'} a field that does not exist`)
  }
  if (step.kind === 'remove') {
    delete object[key]
  } else {
    // defineProperty rather than assignment: assigning to a key named __proto__ would replace the prototype.
    Object.defineProperty(object, key, {
      value: step.value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }
}

/** The value at `path`, checked to be the container `segment` needs: an array for an index, else an object. */
function containerFor(
  value: unknown,
  segment: PathSegment,
  step: Step,
  path: string,
): unknown[] | Record<string, unknown> {
  const kind = snapshotKindOf(value, path)
  const expected = typeof segment === 'number' ? 'array' : 'object'
  if (kind !== expected) {
    const found = kind === 'absent' ? 'missing' : `of type ${kind}`
    notApplicable(step, `needs ${path || 'the snapshot'} to be an ${expected}, but it is ${found}`)
  }
  return value as unknown[] | Record<string, unknown>
}

function notApplicable(step: Pick<Step, 'label' | 'path'>, problem: string): never {
  throw new JsonValueError('CHANGE_NOT_APPLICABLE', step.path, `${step.label} ${problem}`)
}
