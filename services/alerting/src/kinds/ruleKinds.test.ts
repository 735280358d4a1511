import { describe, expect, it } from 'vitest'
import { createAlertEngine } from '../engine/alertEngine.js'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent, hour, minute } from '../testSupport/auditEvents.js'

const t0 = Date.parse('2026-03-02T09:00:00Z')

const engineWith = (rule: string) =>
  createAlertEngine({
    rules: parseRules(`rules:\n${rule}`, 'rules.yaml'),
    allowedLatenessMs: 0,
    maxGroupsPerRule: 1_000,
    maxEntities: 1_000,
    checkIntervalMs: 1_000,
  })

describe('spike', () => {
  const rule = `
  - id: login-failures-spike
    kind: spike
    severity: warning
    filter: event.action.name == "login" && event.outcome.status == "failure"
    window: 1m
    reference: 10m
    factor: 5
    minCount: 10
`
  const failures = (fromMs: number, count: number, everyMs: number) =>
    Array.from({ length: count }, (_, i) =>
      auditEvent({ at: fromMs + i * everyMs, kind: 'operation', name: 'login' }),
    ).map((event) => ({ ...event, outcome: { status: 'failure' as const, reason: null } }))

  it('alerts when the window’s rate reaches the factor times the reference rate, then resolves', () => {
    const engine = engineWith(rule)
    // Baseline: one failure a minute for ten minutes, then 30 in one minute.
    const baseline = failures(t0, 11, minute).flatMap((event) => engine.evaluate(event))
    expect(baseline).toEqual([])
    const burst = failures(t0 + 11 * minute, 30, 2_000).flatMap((event) => engine.evaluate(event))
    expect(burst.map((alert) => alert.status)).toEqual(['raised'])
    expect(burst[0]?.figures).toMatchObject({ factor: 5 })
    expect(Number(burst[0]?.figures['count'])).toBeGreaterThanOrEqual(10)
    // Quiet again: a read two minutes later moves time on and the spike clears.
    const after = engine.evaluate(auditEvent({ at: t0 + 14 * minute, kind: 'read' }))
    expect(after.map((alert) => alert.status)).toEqual(['resolved'])
  })

  it('a steady rate is no spike, and a group without a reference period of history is none either', () => {
    const engine = engineWith(rule)
    expect(failures(t0, 200, 5_000).flatMap((event) => engine.evaluate(event))).toEqual([])
    const fresh = engineWith(rule)
    expect(failures(t0, 30, 1_000).flatMap((event) => fresh.evaluate(event))).toEqual([])
  })
})

describe('flatline', () => {
  const rule = `
  - id: service-stopped-auditing
    kind: flatline
    severity: critical
    groupBy: event.source.service
    window: 5m
    fewerThan: 1
`
  const from = (service: string, at: number) => {
    const event = auditEvent({ at, kind: 'read' })
    return { ...event, source: { ...event.source, service } }
  }

  it('alerts when a service seen before sends nothing for a window, and resolves when it is back', () => {
    const engine = engineWith(rule)
    const steady: ReturnType<typeof from>[] = []
    for (let m = 0; m <= 6; m++) steady.push(from('billing', t0 + m * minute), from('crm', t0 + m * minute))
    expect(steady.flatMap((event) => engine.evaluate(event))).toEqual([])
    // crm goes silent; billing's events move time on.
    const silent = Array.from({ length: 8 }, (_, m) => from('billing', t0 + (7 + m) * minute))
    const alerts = silent.flatMap((event) => engine.evaluate(event))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      status: 'raised',
      groupKey: 'crm',
      figures: { count: 0, fewer_than: 1 },
    })
    const back = engine.evaluate(from('crm', t0 + 15 * minute))
    expect(back).toMatchObject([{ status: 'resolved', groupKey: 'crm', resolvesAlertId: alerts[0]?.alertId }])
  })
})

describe('new value', () => {
  const rule = `
  - id: new-ip-for-user
    kind: new_value
    severity: notice
    filter: event.actor.ip != null
    groupBy: event.actor.id
    value: event.actor.ip
    maxValuesPerGroup: 2
`
  const login = (user: string, ip: string, at: number) =>
    auditEvent({ at, kind: 'operation', actor: { id: user, ip } })

  it('alerts the first time a user comes from an address, learning each user’s first one quietly', () => {
    const engine = engineWith(rule)
    const alerts = [
      login('ana', '10.0.0.1', t0),
      login('ana', '10.0.0.1', t0 + 1),
      login('bob', '10.0.0.9', t0 + 2),
      login('ana', '10.0.0.2', t0 + 3),
      login('ana', '10.0.0.2', t0 + 4),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ groupKey: 'ana', figures: { value: '10.0.0.2', known_values: 1 } })
  })

  it('alerts each new address however the events arrive: one read out of event-time order is not throttled', () => {
    // Logins of one user on objects in different input partitions: the later one may be read first.
    const engine = engineWith(rule.replace('maxValuesPerGroup: 2', 'maxValuesPerGroup: 10'))
    const alerts = [
      login('ana', '10.0.0.1', t0 + 10_000),
      login('ana', '10.0.0.2', t0 + 20_000),
      login('ana', '10.0.0.3', t0),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts.map((alert) => alert.figures['value'])).toEqual(['10.0.0.2', '10.0.0.3'])
    expect(engine.takeCounters().rules[0]?.counters).toMatchObject({ raised: 2, suppressed: 0 })
  })

  it('remembers a bounded number of values per user: the least recently seen is forgotten', () => {
    const engine = engineWith(rule)
    const alerts = [
      login('ana', 'a', t0),
      login('ana', 'b', t0 + 1),
      login('ana', 'c', t0 + 2),
      login('ana', 'a', t0 + 3),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts.map((alert) => alert.figures['value'])).toEqual(['b', 'c', 'a'])
  })
})

describe('cardinality', () => {
  const rule = `
  - id: many-customers-touched
    kind: cardinality
    severity: warning
    filter: event.object.type == "customer"
    groupBy: event.actor.id
    value: event.object.id
    window: 1h
    moreThan: 3
`
  const touch = (user: string, customer: string, at: number) =>
    auditEvent({ at, kind: 'read', actor: { id: user }, object: { type: 'customer', id: customer } })

  it('alerts when one user touches more than N distinct records in the window, once, then resolves', () => {
    const engine = engineWith(rule)
    const alerts = [
      touch('eve', 'c1', t0),
      touch('eve', 'c1', t0 + 1_000),
      touch('eve', 'c2', t0 + 2_000),
      touch('eve', 'c3', t0 + 3_000),
      touch('bob', 'c4', t0 + 4_000),
      touch('eve', 'c4', t0 + 5_000),
      touch('eve', 'c5', t0 + 6_000),
      touch('eve', 'c6', t0 + 7_000),
    ].flatMap((event) => engine.evaluate(event))
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      status: 'raised',
      groupKey: 'eve',
      figures: { distinct: 4, more_than: 3 },
    })
    const later = engine.evaluate(touch('bob', 'c9', t0 + 2 * hour))
    expect(later).toMatchObject([{ status: 'resolved', groupKey: 'eve' }])
  })
})

describe('throttling', () => {
  const statusReopened = `
  - id: status-reopened
    kind: change
    severity: info
    field: status
    from: [closed]
    groupBy: event.object.id
    reAlertAfter: 1h
`
  const reopen = (at: number) => auditEvent({ at, changes: { status: ['closed', 'open'] } })

  it('a change rule with reAlertAfter alerts once per group in that time', () => {
    const engine = engineWith(statusReopened)
    const alerts = [reopen(t0), reopen(t0 + minute), reopen(t0 + 2 * hour)].flatMap((event) =>
      engine.evaluate(event),
    )
    expect(alerts).toHaveLength(2)
    expect(engine.takeCounters().rules[0]?.counters).toMatchObject({ raised: 2, suppressed: 1 })
  })

  it('an occurrence read out of order, behind the last alert, is within reAlertAfter', () => {
    const engine = engineWith(statusReopened)
    const alerts = [reopen(t0 + 2 * hour), reopen(t0 + 2 * hour - minute)].flatMap((event) =>
      engine.evaluate(event),
    )
    expect(alerts).toHaveLength(1)
    expect(engine.takeCounters().rules[0]?.counters).toMatchObject({ raised: 1, suppressed: 1 })
  })

  it('a threshold that keeps holding re-alerts after reAlertAfter with a new id', () => {
    const engine = engineWith(`
  - id: busy
    kind: threshold
    severity: info
    window: 1m
    atLeast: 2
    reAlertAfter: 10m
`)
    const alerts = Array.from({ length: 70 }, (_, i) =>
      auditEvent({ at: t0 + i * 10_000, kind: 'read' }),
    ).flatMap((event) => engine.evaluate(event))
    expect(alerts.map((alert) => alert.status)).toEqual(['raised', 'raised'])
    expect(new Set(alerts.map((alert) => alert.alertId)).size).toBe(2)
  })
})
