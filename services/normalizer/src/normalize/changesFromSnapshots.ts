import {
  diffValues,
  JsonValueError,
  type ActionKind,
  type EventProblem,
  type FieldChange,
} from '@audit-pipeline/event-model'

type Side = 'before' | 'after'

/**
 * The snapshots each kind needs before its changes can be computed from them. An update needs
 * both: from `after` alone every field would look added. A read or an operation changes nothing,
 * so a snapshot it carries is context, not a change.
 */
export const snapshotsNeededForChanges = {
  create: ['after'],
  update: ['before', 'after'],
  delete: ['before'],
  read: null,
  operation: null,
} as const satisfies Record<ActionKind, readonly Side[] | null>

export type ComputedChanges = { changes: FieldChange[]; problems: EventProblem[] }

const none: ComputedChanges = { changes: [], problems: [] }

/**
 * The field-level changes between an event's snapshots (JSON text), as the SDK computes them:
 * diffValues, with sensitive fields compared whole so that keys under them never show in a path.
 * Nothing when the kind changes nothing or a snapshot it needs is missing. Snapshots that are not
 * JSON text, and sensitive fields that are not paths, are left for eventProblems to name; a
 * snapshot that is JSON but not an object is a problem of its own.
 */
export function changesFromSnapshots(
  kind: ActionKind,
  snapshots: Record<Side, string | null>,
  sensitiveFields: readonly string[],
): ComputedChanges {
  const needed = snapshotsNeededForChanges[kind]
  if (needed === null || needed.some((side) => snapshots[side] === null)) return none
  const values: Record<Side, unknown> = { before: undefined, after: undefined }
  const problems: EventProblem[] = []
  for (const side of ['before', 'after'] as const) {
    const text = snapshots[side]
    if (text === null) continue
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return none
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({
        field: side,
        message: `changes are computed from snapshots that are JSON objects; this one is ${describe(value)}`,
      })
    }
    values[side] = value
  }
  if (problems.length > 0) return { changes: [], problems }
  try {
    return { changes: diffValues(values.before, values.after, { wholeAt: sensitiveFields }), problems }
  } catch (error) {
    // A sensitive field that is not a path; parsed JSON holds nothing else diffValues refuses.
    if (error instanceof JsonValueError && error.code === 'INVALID_PATH') return none
    throw error
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`
}
