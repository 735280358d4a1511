import { describe, expect, it } from 'vitest'
import { contentDigest } from '@audit-pipeline/integrity'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent } from '../testSupport/auditEvents.js'
import { createAlertEngine } from './alertEngine.js'
import { createRuleBudget } from './ruleBudget.js'

const settings = { budgetMs: 50, overrunLimit: 3, windowMs: 10_000 }

describe('the rule budget', () => {
  it('counts overruns, and disables a rule at the limit within the window', () => {
    const budget = createRuleBudget(settings)
    expect(budget.record('slow', 50, 0, 'e0')).toBe('within')
    expect(budget.record('slow', 51, 1_000, 'e1')).toBe('overrun')
    expect(budget.record('slow', 80, 2_000, 'e2')).toBe('overrun')
    expect(budget.record('other', 500, 2_500, 'x')).toBe('overrun')
    expect(budget.record('slow', 60, 3_000, 'e3')).toBe('disabled')
    expect(budget.isDisabled('slow')).toBe(true)
    expect(budget.isDisabled('other')).toBe(false)
    expect(budget.disabledRule('slow')).toEqual({
      ruleId: 'slow',
      overruns: 3,
      slowestMs: 80,
      events: ['e1', 'e2', 'e3'].map((eventId) => ({ eventId, contentDigest: null })),
    })
    expect(budget.disabledRules()).toEqual(['slow'])
    // Disabled: nothing more is counted for it.
    expect(budget.record('slow', 900, 4_000, 'e4')).toBe('within')
  })

  it('forgets overruns older than the window, so rare pauses never add up', () => {
    const budget = createRuleBudget(settings)
    for (let i = 0; i < 10; i++) expect(budget.record('r', 100, i * 6_000, `e${i}`)).toBe('overrun')
    expect(budget.isDisabled('r')).toBe(false)
  })
})

describe('the engine under a time budget (time injected)', () => {
  const rules = `
rules:
  - id: slow-one
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
  - id: fast-one
    kind: match
    severity: info
    filter: event.action.kind == "delete"
`
  /** A clock that makes every evaluation of the first rule take 80 ms and of the second 1 ms. */
  const scriptedClock = () => {
    let now = 0
    let calls = 0
    return () => {
      // Three readings per event: before the rules, after slow-one, after fast-one.
      const step = calls++ % 3
      now += step === 1 ? 80 : step === 2 ? 1 : 0
      return now
    }
  }
  const engineWith = () =>
    createAlertEngine({
      rules: parseRules(rules, 'rules.yaml'),
      allowedLatenessMs: 60_000,
      maxGroupsPerRule: 100,
      maxEntities: 100,
      checkIntervalMs: 1_000,
      ruleBudget: settings,
      clock: scriptedClock(),
    })
  const t0 = Date.parse('2026-03-02T09:00:00Z')
  const deletes = (count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => auditEvent({ at: t0 + (from + i) * 1_000, kind: 'delete' }))

  it('counts a slow rule’s overruns, then disables it with a pipeline alert; the other rule goes on', () => {
    const engine = engineWith()
    const events = deletes(3)
    const notices = events.map((event) => [...engine.evaluate(event), ...engine.takePipelineAlerts()])
    expect(notices[0]?.map((notice) => notice.ruleId)).toEqual(['slow-one', 'fast-one'])
    expect(notices[1]?.map((notice) => notice.ruleId)).toEqual(['slow-one', 'fast-one'])
    // The third overrun disables slow-one: its alert for that event stands, and a pipeline alert
    // is raised (taken apart from the event's, so it stands whatever becomes of the event).
    expect(notices[2]?.map((notice) => notice.ruleId)).toEqual([
      'slow-one',
      'fast-one',
      'pipeline.rule-disabled',
    ])
    expect(engine.takePipelineAlerts()).toEqual([])
    const pipelineAlert = notices[2]?.[2]
    expect(pipelineAlert).toMatchObject({
      status: 'raised',
      ruleKind: 'pipeline',
      severity: 'error',
      tenant: 'audit-pipeline',
      groupKey: 'slow-one',
      atMs: events[2]?.occurred_at,
      figures: { rule: 'slow-one', overruns: 3, budget_ms: 50, window_ms: 10_000, slowest_ms: 80 },
      triggeringEvents: events.map((event) => ({
        eventId: event.event_id,
        contentDigest: contentDigest(event),
      })),
    })
    expect(pipelineAlert?.description).toBe(
      'Rule slow-one disabled: 3 evaluations over its 50 ms budget within 10000 ms',
    )
    expect(engine.disabledRules()).toEqual(['slow-one'])
    const counters = engine.takeCounters().rules
    expect(counters.find((rule) => rule.ruleId === 'slow-one')?.counters.budgetExceeded).toBe(3)
    expect(counters.find((rule) => rule.ruleId === 'fast-one')?.counters.budgetExceeded).toBe(0)

    // From then on only fast-one runs (the script, written for two rules, now times it at 80 ms
    // now and then: overruns under the limit).
    const later = engine.evaluate(deletes(1, 3)[0]!)
    expect(later.map((notice) => notice.ruleId)).toEqual(['fast-one'])
  })

  it('a reload gives every rule a new budget: the disabled rule runs again', () => {
    const engine = engineWith()
    for (const event of deletes(3)) engine.evaluate(event)
    expect(engine.disabledRules()).toEqual(['slow-one'])
    engine.replaceRules(parseRules(rules, 'rules.yaml'))
    expect(engine.disabledRules()).toEqual([])
    expect(engine.evaluate(deletes(1, 3)[0]!).map((notice) => notice.ruleId)).toContain('slow-one')
  })
})
