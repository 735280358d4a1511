import type { Actor, AuditEvent } from '@audit-pipeline/event-model'
import type { AuditEventRow, ChangeRow } from './eventRow.js'

/**
 * The select list that reads an `audit_events` row back as the event it was made from: times as
 * epoch milliseconds (exact, whatever the session's time format), the event id as text. What
 * `verify` recomputes content digests from. The converted columns get names of their own: an
 * alias named like a column would be what ClickHouse reads in the query's WHERE and ORDER BY.
 */
export const storedEventSelect = [
  'toString(event_id) AS event_id_text',
  'toUnixTimestamp64Milli(occurred_at) AS occurred_at_ms',
  'toUnixTimestamp64Milli(recorded_at) AS recorded_at_ms',
  'tenant',
  'source_service',
  'source_instance',
  'source_version',
  'actor_type',
  'actor_id',
  'actor_display_name',
  'actor_roles',
  'actor_ip',
  'actor_user_agent',
  'actor_session_id',
  'on_behalf_of_type',
  'on_behalf_of_id',
  'on_behalf_of_display_name',
  'on_behalf_of_roles',
  'on_behalf_of_ip',
  'on_behalf_of_user_agent',
  'on_behalf_of_session_id',
  'action_kind',
  'action_name',
  'category',
  'object_type',
  'object_id',
  'object_id2',
  'object_id3',
  'object_label',
  'changes',
  'before',
  'after',
  'outcome_status',
  'outcome_reason',
  'severity',
  'correlation_trace_id',
  'correlation_request_id',
  'attributes',
  'sensitive_fields',
].join(', ')

/**
 * A row as `storedEventSelect` reads it in JSONEachRow: times as numbers (or, with 64-bit
 * integers quoted, their text), changes as named tuples (objects) or, with
 * output_format_json_named_tuples_as_objects off, arrays.
 */
export type StoredEventRow = Omit<
  AuditEventRow,
  'event_id' | 'occurred_at' | 'recorded_at' | 'changes' | `kafka_${string}`
> & {
  event_id_text: string
  occurred_at_ms: number | string
  recorded_at_ms: number | string
  changes: (ChangeRow | [string, string | null, string | null, string])[]
}

/** The event a stored row holds: the inverse of eventRow (kafka_* aside). Pure. */
export function eventOfStoredRow(row: StoredEventRow): AuditEvent {
  return {
    event_id: row.event_id_text,
    occurred_at: Number(row.occurred_at_ms),
    recorded_at: Number(row.recorded_at_ms),
    ...eventFieldsOfRow(row),
  }
}

/** The columns every reading of an `audit_events` row shares: all but the id and the times. */
export type EventFieldColumns = Omit<StoredEventRow, 'event_id_text' | 'occurred_at_ms' | 'recorded_at_ms'>

/**
 * The event's fields but its id and times, nested as the event has them, from a row's flat
 * columns: what eventOfStoredRow and the query API's answers (which give times as text) share.
 */
export function eventFieldsOfRow(
  row: EventFieldColumns,
): Omit<AuditEvent, 'event_id' | 'occurred_at' | 'recorded_at'> {
  return {
    tenant: row.tenant,
    source: { service: row.source_service, instance: row.source_instance, version: row.source_version },
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      display_name: row.actor_display_name,
      roles: row.actor_roles,
      ip: row.actor_ip,
      user_agent: row.actor_user_agent,
      session_id: row.actor_session_id,
    },
    on_behalf_of: onBehalfOf(row),
    action: { kind: row.action_kind, name: row.action_name },
    category: row.category,
    object: {
      type: row.object_type,
      id: row.object_id,
      id2: row.object_id2,
      id3: row.object_id3,
      label: row.object_label,
    },
    changes: row.changes.map((change) =>
      Array.isArray(change)
        ? {
            path: change[0],
            old_value: change[1],
            new_value: change[2],
            value_type: change[3] as ChangeRow['value_type'],
          }
        : {
            path: change.path,
            old_value: change.old_value,
            new_value: change.new_value,
            value_type: change.value_type,
          },
    ),
    before: row.before,
    after: row.after,
    outcome: { status: row.outcome_status, reason: row.outcome_reason },
    severity: row.severity,
    correlation: { trace_id: row.correlation_trace_id, request_id: row.correlation_request_id },
    attributes: row.attributes,
    sensitive_fields: row.sensitive_fields,
  }
}

/** eventRow writes an absent `on_behalf_of` as a null type (and nulls beside it). */
function onBehalfOf(row: EventFieldColumns): Actor | null {
  if (row.on_behalf_of_type === null || row.on_behalf_of_id === null) return null
  return {
    type: row.on_behalf_of_type,
    id: row.on_behalf_of_id,
    display_name: row.on_behalf_of_display_name,
    roles: row.on_behalf_of_roles,
    ip: row.on_behalf_of_ip,
    user_agent: row.on_behalf_of_user_agent,
    session_id: row.on_behalf_of_session_id,
  }
}
