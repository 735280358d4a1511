import { droppedValue, redactEvent } from '@audit-pipeline/event-model'
import type { Role } from '@audit-pipeline/api-keys'
import type { StoredEventRow } from './eventRow.js'

const droppedJson = JSON.stringify(droppedValue)

/**
 * The row as `role` may see it. An auditor sees it as stored; for an analyst every value at one
 * of the event's `sensitive_fields` is replaced by `"[redacted]"` in `changes`, `before` and
 * `after`, with the event-model's own redaction (the producer's, so the same paths match).
 * If that redaction fails (a stored path or value it cannot read), every value of the row's
 * changes and snapshots is replaced: an analyst never sees a value because it was malformed.
 */
export function rowForRole(row: StoredEventRow, role: Role): StoredEventRow {
  if (role === 'auditor' || row.sensitive_fields.length === 0) return row
  try {
    return redactEvent(row, { mode: 'drop' })
  } catch {
    return redactAllValues(row)
  }
}

function redactAllValues(row: StoredEventRow): StoredEventRow {
  const hide = (value: string | null) => (value === null ? null : droppedJson)
  return {
    ...row,
    changes: row.changes.map((change) => ({
      ...change,
      old_value: hide(change.old_value),
      new_value: hide(change.new_value),
    })),
    before: hide(row.before),
    after: hide(row.after),
  }
}
