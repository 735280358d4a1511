import type { DisabledRule, RuleBudgetSettings } from '../engine/ruleBudget.js'
import type { CompiledRule } from '../rules/compiledRule.js'
import { alertIdFor, maxTriggeringEventIds, type AlertNotice } from './alertNotice.js'

/** The rule id of the alert raised when a rule is disabled for overrunning its time budget. */
export const ruleDisabledAlertRule = 'pipeline.rule-disabled'

/**
 * The tenant of alerts about the pipeline itself, which belong to no customer's tenant: the name
 * the query API files its own access records under by default.
 */
export const pipelineTenant = 'audit-pipeline'

/**
 * The pipeline alert for a rule the budget disabled. It travels as every alert does (the alerts
 * topic in the evaluator's transaction, then the webhook receivers it is routed to, ClickHouse),
 * so whoever is paged for alerts learns that one of them went quiet. Its id derives from the rule's
 * definition and the event it was disabled on.
 */
export function ruleDisabledNotice(
  rule: CompiledRule,
  disabled: DisabledRule,
  budget: RuleBudgetSettings,
  atMs: number,
): AlertNotice {
  return {
    status: 'raised',
    alertId: alertIdFor(
      ruleDisabledAlertRule,
      rule.id,
      rule.fingerprint,
      ...disabled.events.slice(-1).map((event) => event.eventId),
    ),
    ruleId: ruleDisabledAlertRule,
    ruleKind: 'pipeline',
    severity: 'error',
    description: `Rule ${rule.id} disabled: ${disabled.overruns} evaluations over its ${budget.budgetMs} ms budget within ${budget.windowMs} ms`,
    tenant: pipelineTenant,
    groupKey: rule.id,
    atMs,
    windowStartMs: atMs,
    windowEndMs: atMs,
    figures: {
      rule: rule.id,
      overruns: disabled.overruns,
      budget_ms: budget.budgetMs,
      window_ms: budget.windowMs,
      slowest_ms: Math.round(disabled.slowestMs),
    },
    triggeringEvents: disabled.events.slice(-maxTriggeringEventIds),
  }
}
