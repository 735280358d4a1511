/**
 * The canonical audit event, field for field as in schemas/audit-event.avsc (snake_case, as on
 * the wire and in the documented JSON form). Timestamps are UTC epoch milliseconds; Avro unions
 * with null are `| null`.
 */
export const actorTypes = ['user', 'service', 'system'] as const
export type ActorType = (typeof actorTypes)[number]

export const actionKinds = ['create', 'update', 'delete', 'read', 'operation'] as const
export type ActionKind = (typeof actionKinds)[number]

export const outcomeStatuses = ['success', 'failure', 'denied'] as const
export type OutcomeStatus = (typeof outcomeStatuses)[number]

export const severities = ['debug', 'info', 'notice', 'warning', 'error', 'critical'] as const
export type Severity = (typeof severities)[number]

/** Categories every deployment knows; producers may be configured to accept more. */
export const standardCategories = ['business', 'security', 'platform', 'debug'] as const

export const valueTypes = ['string', 'number', 'boolean', 'date', 'null', 'object', 'array'] as const
export type ValueType = (typeof valueTypes)[number]

export type Source = { service: string; instance: string | null; version: string | null }

export type Actor = {
  type: ActorType
  id: string
  display_name: string | null
  roles: string[]
  ip: string | null
  user_agent: string | null
  session_id: string | null
}

export type Action = { kind: ActionKind; name: string }

export type ObjectRef = {
  type: string
  id: string
  id2: string | null
  id3: string | null
  label: string | null
}

/** One changed leaf field. Values are JSON text; `null` means "did not exist" (not JSON null). */
export type FieldChange = {
  path: string
  old_value: string | null
  new_value: string | null
  value_type: ValueType
}

export type Outcome = { status: OutcomeStatus; reason: string | null }

export type Correlation = { trace_id: string | null; request_id: string | null }

export type AuditEvent = {
  event_id: string
  occurred_at: number
  recorded_at: number
  tenant: string
  source: Source
  actor: Actor
  on_behalf_of: Actor | null
  action: Action
  category: string
  object: ObjectRef
  changes: FieldChange[]
  before: string | null
  after: string | null
  outcome: Outcome
  severity: Severity
  correlation: Correlation
  attributes: Record<string, string>
  sensitive_fields: string[]
}
