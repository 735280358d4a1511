import { describe, expect, it } from 'vitest'
import type { ApiEvent } from '../commands/queryOutput.js'
import { demoChecks, type DemoObservation } from './demoChecks.js'
import { demoScenario } from './scenario.js'

const nowMs = Date.parse('2026-11-23T21:00:00Z')
let counter = 0
const scenario = demoScenario({ runId: 'test', nowMs, newId: () => `id-${++counter}` })

const timelineEvent = (name: string, changes: ApiEvent['changes'] = []): ApiEvent => ({
  event_id: name,
  occurred_at: '2026-11-20T10:00:00.000Z',
  tenant: scenario.tenant,
  actor: { type: 'user', id: 'u', display_name: null },
  action: { kind: 'update', name },
  category: 'business',
  object: { type: 'ticket', id: '9548-B1', label: null },
  changes,
  outcome: { status: 'success', reason: null },
})

/** What a run that did everything right observes. */
const complete = (): DemoObservation => ({
  timeline: scenario.timeline.actions.map((name, i) =>
    timelineEvent(name, i === 2 ? [{ path: 'priority', old_value: '"Urgent"', new_value: '"Normal"' }] : []),
  ),
  storedAlerts: scenario.alerts.map((alert) => ({
    alert_id: alert.rule,
    raised_at: '2026-11-23T21:00:00.000Z',
    tenant: scenario.tenant,
    status: 'raised',
    rule: alert.rule,
    severity: 'warning',
    group_key: alert.groupKey,
    description: null,
  })),
  deliveredAlerts: scenario.alerts.map((alert) => ({
    rule: alert.rule,
    groupKey: alert.groupKey,
    status: 'raised',
    verified: true,
  })),
  deadLetters: scenario.malformed.map((m) => ({ key: m.key, reason: 'EVENT_INVALID: …' })),
})

describe('the demo scenario', () => {
  it('holds the story: one tenant, the burst over the mass-delete threshold within its window, all in the past', () => {
    expect(new Set(scenario.events.map((e) => e.tenant))).toEqual(new Set(['demo-test']))
    expect(new Set(scenario.events.map((e) => e.event_id)).size).toBe(scenario.events.length)
    const times = scenario.events.map((e) => Date.parse(e['occurred_at'] as string))
    expect(Math.max(...times)).toBeLessThanOrEqual(nowMs)
    const burst = scenario.events.filter(
      (e) =>
        (e['actor'] as { id: string }).id === 'u-3003' && (e['action'] as { kind: string }).kind === 'delete',
    )
    expect(burst).toHaveLength(scenario.burstDeletes)
    const burstTimes = burst.map((e) => Date.parse(e['occurred_at'] as string))
    // deploy/alerting/rules.yaml mass-delete: at least 50 in 5 minutes.
    expect(scenario.burstDeletes).toBeGreaterThanOrEqual(50)
    expect(Math.max(...burstTimes) - Math.min(...burstTimes)).toBeLessThan(5 * 60_000)
    // The assignment and its deletion fall within 24 hours of the burst (the sequence rule's `within`).
    const assignment = scenario.events.filter((e) => (e['object'] as { id: string }).id === '13255A')
    expect(assignment).toHaveLength(2)
    for (const event of assignment) {
      expect(Math.min(...burstTimes) - Date.parse(event['occurred_at'] as string)).toBeLessThan(
        24 * 3_600_000,
      )
    }
  })
})

describe('demoChecks', () => {
  it('passes every check when everything expected happened', () => {
    const checks = demoChecks(scenario, complete())
    expect(checks.filter((check) => !check.ok)).toEqual([])
    expect(checks.length).toBe(2 + scenario.alerts.length + 1 + scenario.malformed.length)
  })

  it('fails when the burst alerted more than once, an alert was not delivered, or was not signed', () => {
    const twice = complete()
    twice.storedAlerts.push({ ...twice.storedAlerts[2]!, alert_id: 'again' })
    expect(demoChecks(scenario, twice).find((c) => c.what.startsWith('alert mass-delete'))?.ok).toBe(false)

    const undelivered = complete()
    undelivered.deliveredAlerts.shift()
    expect(demoChecks(scenario, undelivered).filter((c) => !c.ok)).toHaveLength(1)

    const unsigned = complete()
    unsigned.deliveredAlerts[0]!.verified = false
    expect(
      demoChecks(scenario, unsigned)
        .filter((c) => !c.ok)
        .map((c) => c.what),
    ).toEqual([
      `alert ${scenario.alerts[0]!.rule} (${scenario.alerts[0]!.why})`,
      'every alert webhook carried a valid signature',
    ])
  })

  it('fails on a timeline out of order, a missing change, or a malformed message not dead-lettered', () => {
    const reordered = complete()
    reordered.timeline.reverse()
    expect(demoChecks(scenario, reordered)[0]?.ok).toBe(false)

    const noChange = complete()
    noChange.timeline = noChange.timeline.map((e) => ({ ...e, changes: [] }))
    expect(demoChecks(scenario, noChange)[1]?.ok).toBe(false)

    const lost = complete()
    lost.deadLetters.pop()
    const failed = demoChecks(scenario, lost).filter((c) => !c.ok)
    expect(failed.map((c) => c.detail)).toEqual(['not in the dead-letter topic'])
  })
})
