import { randomUUID } from 'node:crypto'

/** An event in the documented JSON form (schemas/README.md), as a service would send it. */
export type ScenarioEvent = Record<string, unknown> & { event_id: string; tenant: string }

/** A message no producer SDK would send, written to the topic as raw bytes. */
export type MalformedMessage = { key: string; value: string; why: string }

/** An alert the scenario must raise: the rule (deploy/alerting/rules.yaml) and its group key. */
export type ExpectedAlert = { rule: string; groupKey: string; why: string }

export type Scenario = {
  tenant: string
  events: ScenarioEvent[]
  malformed: MalformedMessage[]
  /** The ticket whose timeline the demo prints, with the actions it must show in order. */
  timeline: { objectType: string; objectId: string; actions: string[] }
  alerts: ExpectedAlert[]
  /** How many deletes the burst holds; the mass-delete rule must alert once for all of them. */
  burstDeletes: number
}

const minute = 60_000
const hour = 60 * minute
const day = 24 * hour

const helpdesk = { service: 'helpdesk-api', instance: 'helpdesk-api-7f9c', version: '3.2.0' }
const people = {
  alex: { type: 'user', id: 'u-1001', display_name: 'Alex Mercer', roles: ['agent'] },
  jack: { type: 'user', id: 'u-1002', display_name: 'Jack Peltrow', roles: ['agent'] },
  stefany: { type: 'user', id: 'u-1003', display_name: 'Stefany Ilds', roles: ['agent'] },
  josee: { type: 'user', id: 'u-2001', display_name: 'Josée McCortez', roles: ['supervisor'] },
  john: { type: 'user', id: 'u-2002', display_name: 'John Doe', roles: ['agent'] },
  sam: { type: 'user', id: 'u-3003', display_name: 'Sam Rivers', roles: ['agent'] },
}

/**
 * The demo's story, after the reference documents (../shared/reference): ticket 9548-B1's life,
 * with the priority lowered from Urgent by an agent; ticket 13255A assigned by supervisor Josée
 * McCortez to John Doe, who deletes it hours later; and one user deleting 60 tickets within half a
 * minute. Plus messages no service should send.
 *
 * Each run has its own tenant, so runs never mix in queries, deduplication or alert throttling.
 * Times are relative to `nowMs` (the story's days and hours, ending now): the alerting service
 * follows event time, and may read the burst (now) before the assignment on another partition, so
 * the assignment must still be within its 24 hours of the burst, and the burst must not be older
 * than what it has already seen.
 */
export function demoScenario(options: { runId: string; nowMs: number; newId?: () => string }): Scenario {
  const newId = options.newId ?? randomUUID
  // Whole minutes read better in the timeline.
  const nowMs = Math.floor(options.nowMs / minute) * minute
  const ago = (ms: number) => new Date(nowMs - ms).toISOString()
  const tenant = `demo-${options.runId}`
  const event = (fields: Record<string, unknown>): ScenarioEvent => ({
    event_id: newId(),
    tenant,
    source: helpdesk,
    category: 'business',
    ...fields,
  })
  const ticket = { type: 'ticket', id: '9548-B1', label: 'Export to PDF fails' }
  const opened = { title: 'Export to PDF fails', priority: 'Normal', status: 'open' }
  const urgent = { ...opened, priority: 'Urgent' }
  const solution = "Use the print dialog's Save as PDF until the fix ships."
  const lowered = { ...opened, solution }
  const lifecycle = [
    event({
      occurred_at: ago(4 * day),
      actor: { ...people.alex, ip: '203.0.113.10' },
      action: { kind: 'create', name: 'ticket.create' },
      object: ticket,
      changes: Object.entries(opened).map(([path, value]) => ({ path, new_value: value })),
      after: opened,
    }),
    event({
      occurred_at: ago(3 * day - 90 * minute),
      actor: people.jack,
      action: { kind: 'update', name: 'ticket.update' },
      object: ticket,
      changes: [{ path: 'priority', old_value: 'Normal', new_value: 'Urgent' }],
      before: opened,
      after: urgent,
    }),
    event({
      occurred_at: ago(2 * day - 3 * hour),
      actor: people.stefany,
      action: { kind: 'update', name: 'ticket.update' },
      object: ticket,
      changes: [
        { path: 'priority', old_value: 'Urgent', new_value: 'Normal' },
        { path: 'solution', new_value: solution },
      ],
      before: urgent,
      after: lowered,
    }),
    event({
      occurred_at: ago(day),
      actor: people.stefany,
      action: { kind: 'update', name: 'ticket.close' },
      object: ticket,
      changes: [{ path: 'status', old_value: 'open', new_value: 'closed' }],
      before: lowered,
      after: { ...lowered, status: 'closed' },
    }),
  ]
  const assigned = { type: 'ticket', id: '13255A', label: 'Refund not received' }
  const assignment = [
    event({
      occurred_at: ago(5 * hour),
      actor: people.josee,
      action: { kind: 'update', name: 'ticket.assign' },
      object: assigned,
      changes: [{ path: 'assignee', old_value: null, new_value: people.john.id }],
      before: { status: 'open', assignee: null },
      after: { status: 'open', assignee: people.john.id },
    }),
    event({
      occurred_at: ago(2 * hour),
      actor: people.john,
      action: { kind: 'delete', name: 'ticket.delete' },
      object: assigned,
      before: { status: 'open', assignee: people.john.id },
    }),
  ]
  const burstDeletes = 60
  // The last half minute before the real now: the alerting service allows events a minute late
  // (ALERTING_ALLOWED_LATENESS_MS) behind the newest it has seen, such as the query API's own
  // access records, and the threshold rule counts only events in time.
  const burstStart = options.nowMs - 30_000
  const burst = Array.from({ length: burstDeletes }, (_, i) =>
    event({
      occurred_at: new Date(burstStart + i * 500).toISOString(),
      actor: people.sam,
      action: { kind: 'delete', name: 'ticket.delete' },
      object: { type: 'ticket', id: `T-${7000 + i}`, label: `Old ticket ${7000 + i}` },
      before: { status: 'closed' },
    }),
  )
  const key = (n: number) => `demo-${options.runId}-malformed-${n}`
  const malformed: MalformedMessage[] = [
    { key: key(1), value: 'this is not an audit event', why: 'neither JSON nor Avro' },
    {
      key: key(2),
      value: JSON.stringify({ ...event({}), occurred_at: '2024-03-16T13:12:00Z', object: ticket }),
      why: 'no actor and no action',
    },
    {
      key: key(3),
      value: JSON.stringify(
        event({
          occurred_at: 'yesterday afternoon',
          actor: people.jack,
          action: { kind: 'update', name: 'ticket.update' },
          object: ticket,
        }),
      ),
      why: 'occurred_at is not a date',
    },
  ]
  return {
    tenant,
    events: [...lifecycle, ...assignment, ...burst],
    malformed,
    timeline: {
      objectType: 'ticket',
      objectId: ticket.id,
      actions: ['ticket.create', 'ticket.update', 'ticket.update', 'ticket.close'],
    },
    alerts: [
      {
        rule: 'priority-lowered-by-non-supervisor',
        groupKey: ticket.id,
        why: 'Stefany Ilds (agent) lowered 9548-B1 from Urgent to Normal',
      },
      {
        rule: 'assigned-ticket-deleted-by-assignee',
        groupKey: `ticket/${assigned.id}`,
        why: 'John Doe deleted 13255A, assigned to him by supervisor Josée McCortez',
      },
      {
        rule: 'mass-delete',
        groupKey: people.sam.id,
        why: `Sam Rivers deleted ${burstDeletes} tickets in 30 seconds: one alert, not ${burstDeletes}`,
      },
    ],
    burstDeletes,
  }
}
