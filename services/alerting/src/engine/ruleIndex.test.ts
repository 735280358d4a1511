import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { equalityGuards } from '../rules/equalityGuards.js'
import { compileExpression } from '../rules/celExpression.js'
import { parseRules } from '../rules/parseRules.js'
import { everyKindRules, everyKindTimeline } from '../testSupport/scenarioEvents.js'
import { createAlertEngine } from './alertEngine.js'

const options = {
  allowedLatenessMs: 60_000,
  maxGroupsPerRule: 1_000,
  maxEntities: 1_000,
  checkIntervalMs: 1_000,
}

describe('the rule index', () => {
  it('finds the equalities a filter requires, and only those', () => {
    const guardsOf = (text: string) => compileExpression(text, 'bool').guards
    expect(guardsOf('event.tenant == "acme" && ("x" in changed || event.action.kind == "read")')).toEqual([
      { path: ['tenant'], value: 'acme' },
    ])
    expect(guardsOf('"delete" == event.action.kind && event.actor.type == "user"')).toEqual([
      { path: ['action', 'kind'], value: 'delete' },
      { path: ['actor', 'type'], value: 'user' },
    ])
    expect(guardsOf('event.tenant == "a" || event.tenant == "b"')).toEqual([])
    expect(guardsOf('!(event.tenant == "a")')).toEqual([])
    expect(equalityGuards({ op: 'value', args: true })).toEqual([])
  })

  it('changes nothing about the alerts: the same timeline with unindexable filters gives the same ones', () => {
    const indexed = createAlertEngine({ ...options, rules: parseRules(everyKindRules, 'rules.yaml') })
    // `|| false` keeps each filter's meaning but hides its equalities from the index.
    const document = parse(everyKindRules) as { rules: { filter?: string }[] }
    for (const rule of document.rules) if (rule.filter) rule.filter = `(${rule.filter}) || false`
    const hidden = stringify(document)
    expect(hidden).not.toBe(everyKindRules)
    const plain = createAlertEngine({ ...options, rules: parseRules(hidden, 'rules.yaml') })
    const start = Date.parse('2026-03-02T09:00:00Z')
    const events = everyKindTimeline(start)
    const a = events.flatMap((event) => indexed.evaluate(event))
    const b = events.flatMap((event) => plain.evaluate(event))
    expect(a.map((alert) => alert.alertId)).toEqual(b.map((alert) => alert.alertId))
    expect(a.length).toBeGreaterThan(8)
  })
})
