import type { RuntimeContext } from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { AlertEngine } from '../engine/alertEngine.js'
import type { AlertingMetrics } from '../metrics.js'

/** What a committed transaction held, as its report counts it. */
export type CommittedTransaction = {
  readonly notices: readonly AlertNotice[]
  /** The error class of each dead letter it wrote. */
  readonly deadLetterClasses: readonly string[]
}

/**
 * One telemetry step per committed transaction (so counters never count what a failed one held):
 * the engine's counters into metrics, the alerts and dead letters written, and the dead letters
 * for the runtime's metric and guard. One per evaluator generation, over its engine.
 */
export function transactionReport(
  engine: Pick<AlertEngine, 'takeCounters' | 'disabledRules' | 'stateSizes'>,
  metrics: AlertingMetrics,
  log: Logger,
  context: Pick<RuntimeContext, 'countDeadLetters'>,
): (committed: CommittedTransaction) => void {
  /** The disabled rules last exported, so the gauge is rewritten only when they change. */
  let reportedDisabled = ''
  return (committed) => {
    const { engine: counts, rules } = engine.takeCounters()
    metrics.eventsEvaluated.inc(counts.evaluated)
    metrics.eventsLate.inc(counts.late)
    metrics.eventsOutOfOrder.inc(counts.outOfOrder)
    if (counts.unwritable > 0) {
      log.error(
        { entries: counts.unwritable },
        'state entries changed outside an event could not be written to the changelog: forgotten (a bug)',
      )
    }
    for (const { ruleId, counters } of rules) {
      if (counters.matches > 0) metrics.ruleMatches.inc({ rule: ruleId }, counters.matches)
      if (counters.suppressed > 0) metrics.alertsSuppressed.inc({ rule: ruleId }, counters.suppressed)
      if (counters.expressionErrors > 0)
        metrics.expressionErrors.inc({ rule: ruleId }, counters.expressionErrors)
      if (counters.budgetExceeded > 0)
        metrics.ruleBudgetExceeded.inc({ rule: ruleId }, counters.budgetExceeded)
    }
    const disabled = engine.disabledRules()
    if (disabled.join('\u0000') !== reportedDisabled) {
      reportedDisabled = disabled.join('\u0000')
      metrics.rulesDisabled.reset()
      for (const rule of disabled) metrics.rulesDisabled.set({ rule }, 1)
    }
    for (const notice of committed.notices) metrics.alerts.inc({ rule: notice.ruleId, status: notice.status })
    for (const errorClass of committed.deadLetterClasses)
      metrics.eventsDeadLettered.inc({ reason: errorClass })
    if (committed.deadLetterClasses.length > 0) context.countDeadLetters(committed.deadLetterClasses)
    for (const { store, entries } of engine.stateSizes()) metrics.stateEntries.set({ store }, entries)
  }
}
