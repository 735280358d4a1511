import { alertEventForm, droppedValue, redactEvent } from '@audit-pipeline/event-model'
import { hideSealedValues, openEvents, type KeyStore } from '@audit-pipeline/field-encryption'
import type { Role } from '@audit-pipeline/api-keys'
import {
  defaultAnalystVisibility,
  visibilityIn,
  type AnalystVisibility,
  type TenantVisibility,
} from '../access/analystVisibility.js'
import { accessRecordForm } from '../accessAudit.js'
import type { StoredEventRow } from './eventRow.js'

const droppedJson = JSON.stringify(droppedValue)

/** Who reads an answer: the key's role, and the key store sealed values open with, if any. */
export type Reader = {
  role: Role
  /** Absent: sealed values cannot be opened here, and an auditor sees them as stored. */
  fieldKeys: KeyStore | undefined
  /**
   * What an analyst sees of actor details and attributes, per tenant, as in force when the request
   * began (one request reads one version of the file). Absent: the built-in default (IP and session
   * id hidden). Auditors see everything.
   */
  visibility?: AnalystVisibility
}

/**
 * The rows as `reader` may see them, in the same order. Sealed values (`enc:v1:…`, packages/
 * field-encryption) in changes and snapshots are opened for an auditor: each becomes the value it
 * seals, `[erased]` once its data subject was erased, `[unreadable]` when it does not open (a key
 * unknown here, a value forged or copied from another event). Keys are looked up on every call,
 * so an erasure shows in the very next answer. Without a key store an auditor sees them as stored,
 * as SQL does. An analyst sees rowForRole's redaction, every sealed value as `[redacted]`,
 * whatever its path (the key store is never asked for an analyst), and the actor details and
 * attributes the row's tenant hides from analysts as null and `{}` (rowForVisibility).
 *
 * Throws the key store's error (a key file unreadable, a key-encryption key that does not unwrap
 * it) rather than answering with values marked unreadable that are not.
 */
export async function rowsForReader(
  rows: readonly StoredEventRow[],
  reader: Reader,
): Promise<StoredEventRow[]> {
  if (reader.role !== 'auditor') {
    const visibility = reader.visibility ?? defaultAnalystVisibility
    return rows.map((row) =>
      rowForVisibility(hideSealedValues(rowForRole(row, reader.role)), visibilityIn(visibility, row.tenant)),
    )
  }
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

/**
 * The row with what `visibility` hides from analysts taken out: a hidden IP, session id or user
 * agent is null, for the actor and for whom it acted on behalf of alike (the same kind of detail
 * about a person), and hidden attributes are `{}`. Access records (accessAudit.ts) also keep the
 * requests' filters among their attributes: an `ip` or `session_id` a request searched by is
 * shown as null where that field is hidden, or the record would tell the value.
 */
export function rowForVisibility(row: StoredEventRow, visibility: TenantVisibility): StoredEventRow {
  const shown = (field: keyof TenantVisibility, value: string | null) =>
    visibility[field] === 'hidden' ? null : value
  return {
    ...row,
    actor_ip: shown('ip', row.actor_ip),
    actor_session_id: shown('session_id', row.actor_session_id),
    actor_user_agent: shown('user_agent', row.actor_user_agent),
    on_behalf_of_ip: shown('ip', row.on_behalf_of_ip),
    on_behalf_of_session_id: shown('session_id', row.on_behalf_of_session_id),
    on_behalf_of_user_agent: shown('user_agent', row.on_behalf_of_user_agent),
    attributes:
      visibility.attributes === 'hidden'
        ? {}
        : row.object_type === accessRecordForm.objectType
          ? accessRecordAttributes(row.attributes, visibility)
          : row.object_type === alertEventForm.objectType
            ? alertAttributesShown(row.attributes, visibility)
            : row.attributes,
  }
}

/**
 * An alert's attributes without its group key and figures when they may show what the tenant
 * hides from analysts: made from a hidden field (`alert.reveals`, which the alerting service
 * writes from the rule's expressions), or from fields unknown (an alert that does not say).
 */
function alertAttributesShown(
  attributes: Record<string, string>,
  visibility: TenantVisibility,
): Record<string, string> {
  const reveals = attributes[alertEventForm.attributes.reveals]
  const revealsHidden =
    reveals === undefined ||
    reveals
      .split(',')
      .filter((field) => field !== '')
      .some(
        (field) =>
          !Object.hasOwn(visibility, field) || visibility[field as keyof TenantVisibility] === 'hidden',
      )
  if (!revealsHidden) return attributes
  const {
    [alertEventForm.attributes.groupKey]: _groupKey,
    [alertEventForm.attributes.figures]: _figures,
    ...rest
  } = attributes
  return rest
}

/** Filters of a request, as an access record keeps them, that search by a hideable field. */
const filtersOnHideableFields = ['ip', 'session_id'] as const

function accessRecordAttributes(
  attributes: Record<string, string>,
  visibility: TenantVisibility,
): Record<string, string> {
  const name = accessRecordForm.filtersAttribute
  const text = attributes[name]
  const hidden = filtersOnHideableFields.filter((filter) => visibility[filter] === 'hidden')
  if (text === undefined || hidden.length === 0) return attributes
  let filters: unknown
  try {
    filters = JSON.parse(text)
  } catch {
    filters = undefined
  }
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    // Not the form the API writes: nothing in it can be told apart, so none of it is shown.
    const { [name]: _, ...rest } = attributes
    return rest
  }
  const record = filters as Record<string, unknown>
  if (!hidden.some((filter) => filter in record)) return attributes
  const shown = Object.fromEntries(
    Object.entries(record).map(([filter, value]) => [
      filter,
      (hidden as readonly string[]).includes(filter) ? null : value,
    ]),
  )
  return { ...attributes, [name]: JSON.stringify(shown) }
}
