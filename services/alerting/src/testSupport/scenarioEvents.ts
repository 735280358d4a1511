import type { AuditEvent } from '@audit-pipeline/event-model'
import { auditEvent, minute } from './auditEvents.js'

/**
 * One rules file with a rule of every kind, and a timeline of events in which each rule fires
 * exactly once (the three scenarios included), for the end-to-end tests.
 */
export const everyKindRules = `
rules:
  - id: mass-delete
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    groupBy: event.actor.id
    window: 5m
    atLeast: 50
  - id: login-failure-spike
    kind: spike
    severity: warning
    filter: event.action.name == "login" && event.outcome.status == "failure"
    window: 1m
    reference: 10m
    factor: 5
    minCount: 10
    reAlertAfter: 1h
  - id: service-stopped-auditing
    kind: flatline
    severity: critical
    filter: event.category == "platform"
    groupBy: event.source.service
    window: 5m
    fewerThan: 1
    reAlertAfter: 1h
  - id: new-ip-for-user
    kind: new_value
    severity: notice
    filter: event.action.name == "login" && event.actor.ip != null
    groupBy: event.actor.id
    value: event.actor.ip
  - id: many-customers-touched
    kind: cardinality
    severity: warning
    filter: event.object.type == "customer"
    groupBy: event.actor.id
    value: event.object.id
    window: 1h
    moreThan: 3
  - id: priority-lowered-by-non-supervisor
    kind: change
    severity: warning
    field: priority
    from: [Urgent]
    to: [Normal, Low]
    filter: '!("supervisor" in event.actor.roles)'
    groupBy: event.object.id
  - id: assigned-ticket-deleted-by-assignee
    kind: sequence
    severity: warning
    groupBy: event.object.type + "/" + event.object.id
    first: '"assignee" in changed && "supervisor" in event.actor.roles'
    then: event.action.kind == "delete" && event.actor.id == first.changed.assignee.new
    within: 24h
  - id: closed-by-someone-else
    kind: match
    severity: info
    filter: >-
      "status" in changed && changed.status.new == "closed"
      && "assignee" in entity.fields && entity.fields.assignee != event.actor.id
`

/** An alert per delete. */
export const everyDeleteRules = `
rules:
  - id: every-delete
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
`

/** An alert per delete, and one per user reaching three deletes in ten minutes: state across a failure or a crash. */
export const deleteRules = `
rules:
  - id: every-delete
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
  - id: three-deletes
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    groupBy: event.actor.id
    window: 10m
    atLeast: 3
`

/** Rules raising one alert each in the timeline, with their severity. */
export const everyKindExpected = {
  'mass-delete': 'critical',
  'login-failure-spike': 'warning',
  'service-stopped-auditing': 'critical',
  'new-ip-for-user': 'notice',
  'many-customers-touched': 'warning',
  'priority-lowered-by-non-supervisor': 'warning',
  'assigned-ticket-deleted-by-assignee': 'warning',
  'closed-by-someone-else': 'info',
} as const

/** The timeline, in event-time order, starting at `startMs` and lasting 30 minutes. */
export function everyKindTimeline(startMs: number): AuditEvent[] {
  const at = (minutes: number) => startMs + Math.round(minutes * minute)
  const events: AuditEvent[] = []
  const heartbeat = (service: string, m: number) => {
    const event = auditEvent({ at: at(m), kind: 'operation', name: 'heartbeat', category: 'platform' })
    events.push({ ...event, source: { ...event.source, service } })
  }
  const loginFailure = (m: number) => {
    const event = auditEvent({ at: at(m), kind: 'operation', name: 'login', actor: { id: 'u-target' } })
    events.push({ ...event, outcome: { status: 'failure', reason: 'bad password' } })
  }
  for (let m = 0; m <= 30; m++) {
    heartbeat('billing', m)
    if (m <= 10) heartbeat('crm', m)
  }
  for (let m = 0; m <= 10; m++) loginFailure(m)
  for (let i = 0; i < 30; i++) loginFailure(12 + i / 30)
  // Scenario: a supervisor assigns 13255A to an agent; the agent deletes it later.
  events.push(
    auditEvent({
      at: at(1),
      actor: { id: 'u-sup', roles: ['supervisor'] },
      object: { id: '13255A' },
      changes: { assignee: [null, 'u-agent'] },
    }),
    auditEvent({ at: at(25), kind: 'delete', actor: { id: 'u-agent' }, object: { id: '13255A' } }),
  )
  // Entity state: 777 assigned to u-x, closed by u-y.
  events.push(
    auditEvent({
      at: at(3),
      actor: { id: 'u-lead' },
      object: { id: '777' },
      changes: { assignee: [null, 'u-x'] },
    }),
    auditEvent({
      at: at(24),
      actor: { id: 'u-y' },
      object: { id: '777' },
      changes: { status: ['open', 'closed'] },
    }),
  )
  // Scenario: 50 deletes by one user in under 5 minutes.
  for (let i = 0; i < 50; i++) {
    events.push(
      auditEvent({ at: at(14 + i / 30), kind: 'delete', actor: { id: 'u-mass' }, object: { id: `M-${i}` } }),
    )
  }
  // Scenario: priority lowered by an agent (alert), then by a supervisor (none).
  events.push(
    auditEvent({
      at: at(20),
      actor: { id: 'u-agent' },
      object: { id: 'P-1' },
      changes: { priority: ['Urgent', 'Normal'] },
    }),
    auditEvent({
      at: at(20.5),
      actor: { id: 'u-sup', roles: ['supervisor'] },
      object: { id: 'P-2' },
      changes: { priority: ['Urgent', 'Normal'] },
    }),
  )
  const login = (m: number, ip: string) =>
    events.push(auditEvent({ at: at(m), kind: 'operation', name: 'login', actor: { id: 'ana', ip } }))
  login(2, '198.51.100.1')
  login(21, '198.51.100.1')
  login(21.5, '203.0.113.77')
  for (const [i, customer] of ['c1', 'c2', 'c2', 'c3', 'c4'].entries()) {
    events.push(
      auditEvent({
        at: at(22 + i / 10),
        kind: 'read',
        actor: { id: 'eve' },
        object: { type: 'customer', id: customer },
      }),
    )
  }
  return events.sort((a, b) => a.occurred_at - b.occurred_at)
}
