import type { FieldChange } from '@audit-pipeline/event-model'

/** An `audit_events` row as the answers read it (JSONEachRow, the columns of answerColumns). */
export type StoredEventRow = {
  event_id: string
  occurred_at: string
  recorded_at: string
  tenant: string
  source_service: string
  source_instance: string | null
  source_version: string | null
  actor_type: string
  actor_id: string
  actor_display_name: string | null
  actor_roles: string[]
  actor_ip: string | null
  actor_user_agent: string | null
  actor_session_id: string | null
  on_behalf_of_type: string | null
  on_behalf_of_id: string | null
  on_behalf_of_display_name: string | null
  on_behalf_of_roles: string[]
  on_behalf_of_ip: string | null
  on_behalf_of_user_agent: string | null
  on_behalf_of_session_id: string | null
  action_kind: string
  action_name: string
  category: string
  object_type: string
  object_id: string
  object_id2: string | null
  object_id3: string | null
  object_label: string | null
  changes: FieldChange[]
  before: string | null
  after: string | null
  outcome_status: string
  outcome_reason: string | null
  severity: string
  correlation_trace_id: string | null
  correlation_request_id: string | null
  attributes: Record<string, string>
  sensitive_fields: string[]
}
