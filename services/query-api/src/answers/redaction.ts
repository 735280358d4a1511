import { droppedValue, redactEvent } from '@audit-pipeline/event-model'
import { hideSealedValues, openEvents, type KeyStore } from '@audit-pipeline/field-encryption'
import type { Role } from '@audit-pipeline/api-keys'
import type { StoredEventRow } from './eventRow.js'

const droppedJson = JSON.stringify(droppedValue)

/** Who reads an answer: the key's role, and the key store sealed values open with, if any. */
export type Reader = {
  role: Role
  /** Absent: sealed values cannot be opened here, and an auditor sees them as stored. */
  fieldKeys: KeyStore | undefined
}

/**
 * The rows as `reader` may see them, in the same order. Sealed values (`enc:v1:…`, packages/
 * field-encryption) in changes and snapshots are opened for an auditor: each becomes the value it
 * seals, `[erased]` once its data subject was erased, `[unreadable]` when it does not open (a key
 * unknown here, a value forged or copied from another event). Keys are looked up on every call,
 * so an erasure shows in the very next answer. Without a key store an auditor sees them as stored,
 * as SQL does. An analyst sees rowForRole's redaction, and every sealed value as `[redacted]`,
 * whatever its path: the key store is never asked for an analyst.
 *
 * Throws the key store's error (a key file unreadable, a key-encryption key that does not unwrap
 * it) rather than answering with values marked unreadable that are not.
 */
export async function rowsForReader(
  rows: readonly StoredEventRow[],
  reader: Reader,
): Promise<StoredEventRow[]> {
  if (reader.role !== 'auditor') return rows.map((row) => hideSealedValues(rowForRole(row, reader.role)))
  return reader.fieldKeys === undefined ? [...rows] : openEvents(rows, reader.fieldKeys)
}

/**
 * The row as `role` may see it. An auditor sees it as stored; for an analyst every value at one
 * of the event's `sensitive_fields` is replaced by `"[redacted]"` in `changes`, `before` and
 * `after`, with the event-model's own redaction (the producer's, so the same paths match).
 * If that redaction fails (a stored path or value it cannot read), every value of the row's
 * changes and snapshots is replaced: an analyst never sees a value because it was malformed.
 * Sealed values are left as they are: rowsForReader deals with them.
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
