import { describe, expect, it } from 'vitest'
import { parseRules } from '../rules/parseRules.js'
import { everyKindExpected, everyKindRules, everyKindTimeline } from '../testSupport/scenarioEvents.js'
import { createAlertEngine } from './alertEngine.js'

// The end-to-end tests' timeline, checked here first without Kafka: each rule raises exactly once.
describe('the every-kind timeline', () => {
  it('raises one alert per rule, and resolves the threshold and the spike once their windows pass', () => {
    const engine = createAlertEngine({
      rules: parseRules(everyKindRules, 'rules.yaml'),
      allowedLatenessMs: 60_000,
      maxGroupsPerRule: 1_000,
      maxEntities: 1_000,
      checkIntervalMs: 1_000,
    })
    const notices = everyKindTimeline(Date.parse('2026-03-02T09:00:00Z')).flatMap((event) =>
      engine.evaluate(event),
    )
    const raised = notices.filter((notice) => notice.status === 'raised')
    expect(Object.fromEntries(raised.map((notice) => [notice.ruleId, notice.severity]))).toEqual(
      everyKindExpected,
    )
    expect(raised).toHaveLength(Object.keys(everyKindExpected).length)
    expect(
      notices
        .filter((notice) => notice.status === 'resolved')
        .map((notice) => notice.ruleId)
        .sort(),
    ).toEqual(['login-failure-spike', 'mass-delete'])
  })
})
