import { randomUUID } from 'node:crypto'
import type { Actor, AuditEvent, FieldChange } from '@audit-pipeline/event-model'

/** Builds canonical events for tests: a ticket event by an agent unless told otherwise. */
export function auditEvent(overrides: {
  at: number
  actor?: Partial<Actor>
  kind?: AuditEvent['action']['kind']
  name?: string
  object?: Partial<AuditEvent['object']>
  changes?: Record<string, [unknown, unknown]>
  tenant?: string
  attributes?: Record<string, string>
  category?: string
  eventId?: string
}): AuditEvent {
  const changes: FieldChange[] = Object.entries(overrides.changes ?? {}).map(([path, [from, to]]) => ({
    path,
    old_value: from === undefined ? null : JSON.stringify(from),
    new_value: to === undefined ? null : JSON.stringify(to),
    value_type: typeof (to ?? from) === 'number' ? 'number' : 'string',
  }))
  const kind = overrides.kind ?? 'update'
  return {
    event_id: overrides.eventId ?? randomUUID(),
    occurred_at: overrides.at,
    recorded_at: overrides.at,
    tenant: overrides.tenant ?? 'acme',
    source: { service: 'helpdesk-api', instance: null, version: null },
    actor: {
      type: 'user',
      id: 'u-agent',
      display_name: null,
      roles: ['agent'],
      ip: null,
      user_agent: null,
      session_id: null,
      ...overrides.actor,
    },
    on_behalf_of: null,
    action: { kind, name: overrides.name ?? `ticket.${kind}` },
    category: overrides.category ?? 'business',
    object: { type: 'ticket', id: 'T-1', id2: null, id3: null, label: null, ...overrides.object },
    changes,
    before: null,
    after: null,
    outcome: { status: 'success', reason: null },
    severity: 'info',
    correlation: { trace_id: null, request_id: null },
    attributes: overrides.attributes ?? {},
    sensitive_fields: [],
  }
}

export const minute = 60_000
export const hour = 60 * minute
