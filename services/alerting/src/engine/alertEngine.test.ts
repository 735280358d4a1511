import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent, hour, minute } from '../testSupport/auditEvents.js'
import { createAlertEngine, type AlertEngineOptions } from './alertEngine.js'

const t0 = Date.parse('2026-03-02T09:00:00Z')

/** What an alert names for these events: their ids and content digests. */
const triggering = (events: readonly AuditEvent[]) =>
  events.map((event) => ({ eventId: event.event_id, contentDigest: contentDigest(event) }))

function engineWith(yaml: string, options: Partial<AlertEngineOptions> = {}) {
  return createAlertEngine({
    rules: parseRules(yaml, 'rules.yaml'),
    allowedLatenessMs: minute,
    maxGroupsPerRule: 10_000,
    maxEntities: 10_000,
    checkIntervalMs: 1_000,
    ...options,
  })
}

describe('the issue’s scenarios', () => {
  const sequenceRule = `
rules:
  - id: assigned-ticket-deleted-by-assignee
    kind: sequence
    severity: warning
    groupBy: event.object.type + "/" + event.object.id
    first: '"assignee" in changed && "supervisor" in event.actor.roles'
    then: event.action.kind == "delete" && event.actor.id == first.changed.assignee.new
    within: 24h
`
  it('a supervisor assigns ticket 13255A to an agent, the agent deletes it hours later: one alert', () => {
    const engine = engineWith(sequenceRule)
    const ticket = { id: '13255A' }
    const assigned = auditEvent({
      at: t0,
      actor: { id: 'u-sup', roles: ['supervisor'] },
      object: ticket,
      changes: { assignee: [null, 'u-agent'] },
    })
    const edited = auditEvent({ at: t0 + hour, object: ticket, changes: { status: ['open', 'pending'] } })
    const deleted = auditEvent({ at: t0 + 5 * hour, kind: 'delete', object: ticket })
    const alerts = [assigned, edited, deleted].flatMap((event) => engine.evaluate(event))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      status: 'raised',
      ruleId: 'assigned-ticket-deleted-by-assignee',
      groupKey: 'ticket/13255A',
      triggeringEvents: triggering([assigned, deleted]),
      figures: { elapsed_ms: 5 * hour },
    })
  })

  it('no alert when someone else deletes it, when an agent assigned it, or after 24 hours', () => {
    const engine = engineWith(sequenceRule)
    const assign = (id: string, roles: string[], at: number) =>
      auditEvent({
        at,
        actor: { id: 'u-x', roles },
        object: { id },
        changes: { assignee: [null, 'u-agent'] },
      })
    const alerts = [
      assign('A', ['supervisor'], t0),
      auditEvent({ at: t0 + hour, kind: 'delete', object: { id: 'A' }, actor: { id: 'u-other' } }),
      assign('B', ['agent'], t0),
      auditEvent({ at: t0 + hour, kind: 'delete', object: { id: 'B' } }),
      assign('C', ['supervisor'], t0 + hour),
      auditEvent({ at: t0 + 26 * hour, kind: 'delete', object: { id: 'C' } }),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts).toEqual([])
  })

  it('the same scenario with an entity-state condition: who assigned it, with which role', () => {
    const engine = engineWith(`
rules:
  - id: deleted-by-assignee
    kind: match
    severity: warning
    filter: >-
      event.action.kind == "delete" && entity.exists && "assignee" in entity.fields
      && entity.fields.assignee == event.actor.id && "supervisor" in entity.set_by.assignee.roles
`)
    const ticket = { id: '13255A' }
    const alerts = [
      auditEvent({
        at: t0,
        actor: { id: 'u-sup', roles: ['supervisor'] },
        object: ticket,
        changes: { assignee: [null, 'u-agent'] },
      }),
      auditEvent({ at: t0 + 3 * hour, kind: 'delete', object: ticket }),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]?.ruleId).toBe('deleted-by-assignee')
  })

  it('50 deletes by one user in 5 minutes: one alert, not 50', () => {
    const engine = engineWith(`
rules:
  - id: mass-delete
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    groupBy: event.actor.id
    window: 5m
    atLeast: 50
`)
    const deletes = Array.from({ length: 120 }, (_, i) =>
      auditEvent({ at: t0 + i * 2_000, kind: 'delete', object: { id: `T-${i}` }, actor: { id: 'u-mass' } }),
    )
    const alerts = deletes.flatMap((event) => engine.evaluate(event))
    const raised = alerts.filter((alert) => alert.status === 'raised')
    expect(raised).toHaveLength(1)
    expect(raised[0]).toMatchObject({ groupKey: 'u-mass', figures: { count: 50, at_least: 50 } })
    expect(raised[0]?.triggeringEvents).toEqual(triggering(deletes.slice(0, 50)))
  })

  const priorityRule = `
rules:
  - id: priority-lowered-by-non-supervisor
    kind: change
    severity: warning
    field: priority
    from: [Urgent]
    to: [Normal, Low]
    filter: '!("supervisor" in event.actor.roles)'
    groupBy: event.object.id
`
  it('priority Urgent → Normal by a user without the supervisor role: an alert; by a supervisor: none', () => {
    const engine = engineWith(priorityRule)
    const byAgent = auditEvent({ at: t0, changes: { priority: ['Urgent', 'Normal'] } })
    const bySupervisor = auditEvent({
      at: t0 + 1,
      actor: { id: 'u-sup', roles: ['supervisor', 'agent'] },
      changes: { priority: ['Urgent', 'Normal'] },
    })
    const raised = engine.evaluate(byAgent)
    expect(raised).toHaveLength(1)
    expect(raised[0]).toMatchObject({
      ruleId: 'priority-lowered-by-non-supervisor',
      figures: { field: 'priority', from: 'Urgent', to: 'Normal' },
      triggeringEvents: triggering([byAgent]),
    })
    expect(engine.evaluate(bySupervisor)).toEqual([])
  })

  it('raising the priority, or lowering it from High, is no alert', () => {
    const engine = engineWith(priorityRule)
    expect(engine.evaluate(auditEvent({ at: t0, changes: { priority: ['Normal', 'Urgent'] } }))).toEqual([])
    expect(engine.evaluate(auditEvent({ at: t0, changes: { priority: ['High', 'Normal'] } }))).toEqual([])
  })
})

describe('time and state', () => {
  const thresholdRule = `
rules:
  - id: many-deletes
    kind: threshold
    severity: warning
    filter: event.action.kind == "delete"
    window: 1m
    atLeast: 3
`
  it('a threshold alert is resolved once the watermark takes the window below the count', () => {
    const engine = engineWith(thresholdRule, { allowedLatenessMs: 0 })
    const deletes = [0, 1_000, 2_000].map((ms) => auditEvent({ at: t0 + ms, kind: 'delete' }))
    const raised = deletes.flatMap((event) => engine.evaluate(event))
    expect(raised.map((alert) => alert.status)).toEqual(['raised'])
    // Any event moves time on: 61 s after the first delete, only two remain in the window.
    const later = engine.evaluate(auditEvent({ at: t0 + 61_000, kind: 'read' }))
    expect(later).toHaveLength(1)
    expect(later[0]).toMatchObject({ status: 'resolved', resolvesAlertId: raised[0]?.alertId })
  })

  it('events older than the allowed lateness are counted as late and stay out of windows', () => {
    const engine = engineWith(thresholdRule, { allowedLatenessMs: 10_000 })
    engine.evaluate(auditEvent({ at: t0 + minute, kind: 'read' }))
    const late = [0, 1, 2].flatMap((ms) => engine.evaluate(auditEvent({ at: t0 + ms, kind: 'delete' })))
    expect(late).toEqual([])
    const taken = engine.takeCounters()
    expect(taken.engine).toMatchObject({ evaluated: 4, late: 3 })
    expect(taken.rules[0]?.counters).toMatchObject({ matches: 3, late: 3 })
  })

  it('out-of-order events within the allowed lateness count', () => {
    const engine = engineWith(thresholdRule, { allowedLatenessMs: 10_000 })
    const alerts = [5_000, 3_000, 4_000].flatMap((ms) =>
      engine.evaluate(auditEvent({ at: t0 + ms, kind: 'delete' })),
    )
    expect(alerts.map((alert) => alert.status)).toEqual(['raised'])
    expect(engine.takeCounters().engine.outOfOrder).toBe(2)
  })

  it('an engine restored from the changelog carries on as if it had never stopped, with the same alert ids', () => {
    const events = Array.from({ length: 6 }, (_, i) => auditEvent({ at: t0 + i * 1_000, kind: 'delete' }))
    const straight = engineWith(thresholdRule)
    const expected = events.flatMap((event) => straight.evaluate(event))

    const before = engineWith(thresholdRule)
    const firstHalf = events.slice(0, 2).flatMap((event) => before.evaluate(event))
    // The changelog holds each entry's JSON text, as sealed.
    const changelog = new Map(before.drainStateChanges().map(({ key, value }) => [key, value]))
    const after = engineWith(thresholdRule)
    for (const [key, value] of changelog) after.restore(key, value === null ? null : JSON.parse(value))
    const secondHalf = events.slice(2).flatMap((event) => after.evaluate(event))
    expect([...firstHalf, ...secondHalf]).toEqual(expected)
    expect(expected).toHaveLength(1)
  })

  it('state of a rule whose definition changed is dropped on reload, and tombstoned', () => {
    const engine = engineWith(thresholdRule)
    engine.evaluate(auditEvent({ at: t0, kind: 'delete' }))
    const written = engine.drainStateChanges().filter((change) => change.key.startsWith('rule:'))
    expect(written).toHaveLength(1)
    engine.replaceRules(parseRules(thresholdRule.replace('atLeast: 3', 'atLeast: 4'), 'rules.yaml'))
    const tombstones = engine.drainStateChanges().filter((change) => change.value === null)
    expect(tombstones.map((change) => change.key)).toEqual(written.map((change) => change.key))
  })
})
