import { isoFromClickHouse } from '../query/time.js'
import type { StoredEventRow } from './eventRow.js'

/**
 * An event as the JSON answers give it: the canonical event's nested form (schemas/README.md),
 * times as ISO-8601 UTC. Change values and snapshots stay JSON text, as stored.
 */
export function eventAnswer(row: StoredEventRow) {
  const onBehalfOf =
    row.on_behalf_of_type === null
      ? null
      : {
          type: row.on_behalf_of_type,
          id: row.on_behalf_of_id,
          display_name: row.on_behalf_of_display_name,
          roles: row.on_behalf_of_roles,
          ip: row.on_behalf_of_ip,
          user_agent: row.on_behalf_of_user_agent,
          session_id: row.on_behalf_of_session_id,
        }
  return {
    event_id: row.event_id,
    occurred_at: isoFromClickHouse(row.occurred_at),
    recorded_at: isoFromClickHouse(row.recorded_at),
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
    on_behalf_of: onBehalfOf,
    action: { kind: row.action_kind, name: row.action_name },
    category: row.category,
    object: {
      type: row.object_type,
      id: row.object_id,
      id2: row.object_id2,
      id3: row.object_id3,
      label: row.object_label,
    },
    changes: row.changes,
    before: row.before,
    after: row.after,
    outcome: { status: row.outcome_status, reason: row.outcome_reason },
    severity: row.severity,
    correlation: { trace_id: row.correlation_trace_id, request_id: row.correlation_request_id },
    attributes: row.attributes,
    sensitive_fields: row.sensitive_fields,
  }
}

export type EventAnswer = ReturnType<typeof eventAnswer>
