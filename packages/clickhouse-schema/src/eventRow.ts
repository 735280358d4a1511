import type {
  ActionKind,
  Actor,
  ActorType,
  AuditEvent,
  OutcomeStatus,
  Severity,
  ValueType,
} from '@audit-pipeline/event-model'
import { toDateTime64Text } from '@audit-pipeline/storage'

/** Where an event was read from: kept with its row, so a stored event leads back to its message. */
export type KafkaSource = { topic: string; partition: number; offset: string }

/** One entry of the `changes` column: a named tuple, inserted and read back as a JSON object. */
export type ChangeRow = {
  path: string
  old_value: string | null
  new_value: string | null
  value_type: ValueType
}

/**
 * A row of `audit_events` as JSONEachRow writes it: nested records flattened to
 * `<record>_<field>` columns, times as `DateTime64(3, 'UTC')` text, JSON text kept as text.
 */
export type AuditEventRow = {
  event_id: string
  occurred_at: string
  recorded_at: string
  tenant: string
  source_service: string
  source_instance: string | null
  source_version: string | null
  actor_type: ActorType
  actor_id: string
  actor_display_name: string | null
  actor_roles: string[]
  actor_ip: string | null
  actor_user_agent: string | null
  actor_session_id: string | null
  on_behalf_of_type: ActorType | null
  on_behalf_of_id: string | null
  on_behalf_of_display_name: string | null
  on_behalf_of_roles: string[]
  on_behalf_of_ip: string | null
  on_behalf_of_user_agent: string | null
  on_behalf_of_session_id: string | null
  action_kind: ActionKind
  action_name: string
  category: string
  object_type: string
  object_id: string
  object_id2: string | null
  object_id3: string | null
  object_label: string | null
  changes: ChangeRow[]
  before: string | null
  after: string | null
  outcome_status: OutcomeStatus
  outcome_reason: string | null
  severity: Severity
  correlation_trace_id: string | null
  correlation_request_id: string | null
  attributes: Record<string, string>
  sensitive_fields: string[]
  kafka_topic: string
  kafka_partition: number
  /** A string, as kafkajs gives it: offsets are 64-bit, past what a JS number holds exactly. */
  kafka_offset: string
}

/** The `audit_events` row for `event`, read from `source`. Pure: no clock, no I/O. */
export function eventRow(event: AuditEvent, source: KafkaSource): AuditEventRow {
  const onBehalfOf = actorColumns(event.on_behalf_of)
  return {
    event_id: event.event_id,
    occurred_at: toDateTime64Text(new Date(event.occurred_at)),
    recorded_at: toDateTime64Text(new Date(event.recorded_at)),
    tenant: event.tenant,
    source_service: event.source.service,
    source_instance: event.source.instance,
    source_version: event.source.version,
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor_display_name: event.actor.display_name,
    actor_roles: [...event.actor.roles],
    actor_ip: event.actor.ip,
    actor_user_agent: event.actor.user_agent,
    actor_session_id: event.actor.session_id,
    on_behalf_of_type: onBehalfOf.type,
    on_behalf_of_id: onBehalfOf.id,
    on_behalf_of_display_name: onBehalfOf.display_name,
    on_behalf_of_roles: onBehalfOf.roles,
    on_behalf_of_ip: onBehalfOf.ip,
    on_behalf_of_user_agent: onBehalfOf.user_agent,
    on_behalf_of_session_id: onBehalfOf.session_id,
    action_kind: event.action.kind,
    action_name: event.action.name,
    category: event.category,
    object_type: event.object.type,
    object_id: event.object.id,
    object_id2: event.object.id2,
    object_id3: event.object.id3,
    object_label: event.object.label,
    changes: event.changes.map(({ path, old_value, new_value, value_type }) => ({
      path,
      old_value,
      new_value,
      value_type,
    })),
    before: event.before,
    after: event.after,
    outcome_status: event.outcome.status,
    outcome_reason: event.outcome.reason,
    severity: event.severity,
    correlation_trace_id: event.correlation.trace_id,
    correlation_request_id: event.correlation.request_id,
    attributes: { ...event.attributes },
    sensitive_fields: [...event.sensitive_fields],
    kafka_topic: source.topic,
    kafka_partition: source.partition,
    kafka_offset: source.offset,
  }
}

/** An absent `on_behalf_of` is nulls and no roles, column by column. */
function actorColumns(actor: Actor | null): {
  [Field in keyof Actor]: Field extends 'roles' ? string[] : Actor[Field] | null
} {
  if (actor === null) {
    return {
      type: null,
      id: null,
      display_name: null,
      roles: [],
      ip: null,
      user_agent: null,
      session_id: null,
    }
  }
  return { ...actor, roles: [...actor.roles] }
}

/**
 * The partition an event's rows land in: every audit table is `PARTITION BY toYYYYMM(occurred_at)`
 * with occurred_at in UTC. An insert of one partition's rows writes one part, all or nothing; an
 * insert spanning two writes two parts, and a crash can fall between them.
 */
export function eventPartition(event: Pick<AuditEvent, 'occurred_at'>): number {
  const at = new Date(event.occurred_at)
  return at.getUTCFullYear() * 100 + at.getUTCMonth() + 1
}
