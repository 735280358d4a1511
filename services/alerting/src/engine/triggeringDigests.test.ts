import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import * as integrity from '@audit-pipeline/integrity'
import type { AlertNotice } from '../alerts/alertNotice.js'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent, hour, minute } from '../testSupport/auditEvents.js'
import { createAlertEngine } from './alertEngine.js'

/** The ids of the events whose digest the engine computed, in order (contentDigest spied on). */
const computed = vi.hoisted(() => ({ ids: [] as string[] }))
vi.mock('@audit-pipeline/integrity', async (importOriginal) => {
  const actual = await importOriginal<typeof integrity>()
  return {
    ...actual,
    contentDigest: (event: AuditEvent) => {
      computed.ids.push(event.event_id)
      return actual.contentDigest(event)
    },
  }
})

const { contentDigest } = integrity
const t0 = Date.parse('2026-03-02T09:00:00Z')

const engineWith = (rules: string) =>
  createAlertEngine({
    rules: parseRules(`rules:\n${rules}`, 'rules.yaml'),
    allowedLatenessMs: minute,
    maxGroupsPerRule: 1_000,
    maxEntities: 1_000,
    checkIntervalMs: 1_000,
  })

/** What an alert should name: the events' ids with their content digests. */
const triggering = (events: readonly AuditEvent[]) =>
  events.map((event) => ({ eventId: event.event_id, contentDigest: contentDigest(event) }))

/** What an alert naming these ids should say, the events looked up among `events`. */
const digestsOf = (named: readonly { eventId: string }[], events: readonly AuditEvent[]) => {
  const byId = new Map(events.map((event) => [event.event_id, event]))
  return named.map(({ eventId }) => {
    const event = byId.get(eventId)
    return { eventId, contentDigest: event === undefined ? 'not one of the events' : contentDigest(event) }
  })
}

/** Evaluates the events; returns the raised alerts and the events whose digest was computed. */
const run = (engine: ReturnType<typeof engineWith>, events: readonly AuditEvent[]) => {
  computed.ids = []
  const raised = events
    .flatMap((event) => engine.evaluate(event))
    .filter((notice): notice is AlertNotice => notice.status === 'raised')
  return { raised, digested: [...computed.ids] }
}

/** A rule's state entries as written to the changelog. */
const stateOf = (engine: ReturnType<typeof engineWith>) =>
  engine
    .drainStateChanges()
    .filter((change) => change.key.startsWith('rule:') && change.value !== null)
    .map((change) => JSON.parse(change.value ?? 'null') as Record<string, unknown>)

const deletesBy = (actor: string, count: number, fromMs = t0, everyMs = 1_000) =>
  Array.from({ length: count }, (_, i) =>
    auditEvent({ at: fromMs + i * everyMs, kind: 'delete', object: { id: `T-${i}` }, actor: { id: actor } }),
  )

beforeEach(() => {
  computed.ids = []
})

describe('triggering events carry the content digest of the event as evaluated', () => {
  it('threshold: each triggering event’s digest is contentDigest of it; events no rule keeps are never digested', () => {
    const engine = engineWith(`
  - id: mass-delete
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    groupBy: event.actor.id
    window: 5m
    atLeast: 5
  - id: every-delete
    kind: match
    severity: info
    filter: event.action.kind == "delete" && event.object.id == "T-4"
`)
    const reads = Array.from({ length: 20 }, (_, i) => auditEvent({ at: t0 + i, kind: 'read' }))
    const deletes = deletesBy('u-mass', 5, t0 + 1_000)
    const { raised, digested } = run(engine, [...reads, ...deletes])
    expect(raised.map((notice) => notice.ruleId)).toEqual(['mass-delete', 'every-delete'])
    expect(raised[0]?.triggeringEvents).toEqual(triggering(deletes))
    expect(raised[1]?.triggeringEvents).toEqual(triggering(deletes.slice(4)))
    // Reads match no rule: none digested. The last delete, kept by one rule and named by two: once.
    expect(digested).toEqual(deletes.map((event) => event.event_id))
  })

  it('match, change and new_value digest the event only when they raise an alert', () => {
    const engine = engineWith(`
  - id: closed
    kind: match
    severity: info
    filter: event.action.name == "ticket.close"
  - id: priority-lowered
    kind: change
    severity: warning
    field: priority
    to: [Low]
  - id: new-ip
    kind: new_value
    severity: notice
    groupBy: event.actor.id
    value: event.actor.ip
    filter: event.actor.ip != null
  - id: stopped-auditing
    kind: flatline
    severity: critical
    window: 5m
    fewerThan: 1
`)
    const quiet = [
      auditEvent({ at: t0, actor: { ip: '10.0.0.1' } }),
      auditEvent({ at: t0 + 1, actor: { ip: '10.0.0.1' }, changes: { priority: ['Low', 'High'] } }),
    ]
    const closed = auditEvent({ at: t0 + 2, name: 'ticket.close' })
    const lowered = auditEvent({ at: t0 + 3, changes: { priority: ['High', 'Low'] } })
    const newIp = auditEvent({ at: t0 + 4, actor: { ip: '10.0.0.2' } })
    const { raised, digested } = run(engine, [...quiet, closed, lowered, newIp])
    expect(raised.map((notice) => [notice.ruleId, notice.triggeringEvents])).toEqual([
      ['closed', triggering([closed])],
      ['priority-lowered', triggering([lowered])],
      ['new-ip', triggering([newIp])],
    ])
    expect(digested).toEqual([closed.event_id, lowered.event_id, newIp.event_id])
  })

  it('sequence: event A’s digest is kept with it until B comes', () => {
    const engine = engineWith(`
  - id: assigned-then-deleted
    kind: sequence
    severity: warning
    groupBy: event.object.id
    first: '"assignee" in changed'
    then: event.action.kind == "delete"
    within: 24h
`)
    const assigned = auditEvent({ at: t0, changes: { assignee: [null, 'u-agent'] } })
    const deleted = auditEvent({ at: t0 + hour, kind: 'delete' })
    const { raised } = run(engine, [assigned, deleted])
    expect(raised[0]?.triggeringEvents).toEqual(triggering([assigned, deleted]))
    expect(JSON.stringify(stateOf(engine))).not.toContain(contentDigest(assigned))
  })

  it('spike: the recent events it names carry their digests', () => {
    const engine = engineWith(`
  - id: failures-spike
    kind: spike
    severity: warning
    filter: event.action.name == "login"
    window: 1m
    reference: 10m
    factor: 5
    minCount: 10
`)
    const logins = (fromMs: number, count: number, everyMs: number) =>
      Array.from({ length: count }, (_, i) =>
        auditEvent({ at: fromMs + i * everyMs, kind: 'operation', name: 'login' }),
      )
    const baseline = logins(t0, 11, minute)
    const burst = logins(t0 + 11 * minute, 30, 2_000)
    const { raised } = run(engine, [...baseline, ...burst])
    expect(raised).toHaveLength(1)
    const named = raised[0]?.triggeringEvents ?? []
    expect(named.length).toBeGreaterThan(0)
    expect(named).toEqual(digestsOf(named, [...baseline, ...burst]))
  })
})

describe('digests kept in state are bounded by what an alert can name', () => {
  it('threshold: of 300 kept events, only the last 100 (all an alert names) keep a digest', () => {
    const engine = engineWith(`
  - id: mass-delete
    kind: threshold
    severity: critical
    filter: event.action.kind == "delete"
    window: 1h
    atLeast: 300
`)
    // Out of order now and then: an event may land within reach, or out of it.
    const deletes = deletesBy('u-mass', 300, t0, 1_000).map((event, i) =>
      i % 7 === 3 ? { ...event, occurred_at: event.occurred_at - 30_500 } : event,
    )
    const { raised } = run(engine, deletes)
    expect(raised).toHaveLength(1)
    const byTime = [...deletes].sort((a, b) => a.occurred_at - b.occurred_at)
    const named = raised[0]?.triggeringEvents ?? []
    expect(named).toHaveLength(100)
    expect(new Set(named.map((event) => event.eventId))).toEqual(
      new Set(byTime.slice(-100).map((event) => event.event_id)),
    )
    expect(named).toEqual(digestsOf(named, deletes))
    const [state] = stateOf(engine) as [{ s: { ids: string[]; d: (string | null)[] } }]
    expect(state.s.d).toHaveLength(300)
    expect(state.s.d.filter((digest) => digest !== null)).toHaveLength(100)
  })

  it('cardinality: digests are kept for the 100 most recently seen values only', () => {
    const engine = engineWith(`
  - id: many-customers
    kind: cardinality
    severity: warning
    value: event.object.id
    window: 1h
    moreThan: 150
`)
    const touches = Array.from({ length: 151 }, (_, i) =>
      auditEvent({ at: t0 + i * 1_000, object: { id: `C-${i}` } }),
    )
    const { raised } = run(engine, touches)
    expect(raised).toHaveLength(1)
    expect(raised[0]?.triggeringEvents).toEqual(triggering(touches.slice(-100)))
    const [state] = stateOf(engine) as [{ s: { v: Record<string, unknown[]> } }]
    expect(Object.values(state.s.v).filter((entry) => entry.length === 3)).toHaveLength(100)
  })

  it('state written before digests were kept is read on: its events are named with an unknown digest', () => {
    const rule = `
  - id: many-deletes
    kind: threshold
    severity: warning
    filter: event.action.kind == "delete"
    window: 1h
    atLeast: 3
`
    const before = engineWith(rule)
    const old = deletesBy('u-1', 2)
    run(before, old)
    // As an older version wrote it: the same entry without `d`.
    const changes = before.drainStateChanges().map(({ key, value }) => {
      const entry = value === null ? null : (JSON.parse(value) as { s: { d?: unknown } })
      if (entry && key.startsWith('rule:')) delete entry.s.d
      return [key, entry] as const
    })
    const after = engineWith(rule)
    for (const [key, value] of changes) after.restore(key, value)
    const next = deletesBy('u-1', 1, t0 + 10_000)
    const { raised } = run(after, next)
    expect(raised[0]?.triggeringEvents).toEqual([
      ...old.map((event) => ({ eventId: event.event_id, contentDigest: null })),
      ...triggering(next),
    ])
  })
})
