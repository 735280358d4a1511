import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { createConsumerMetrics } from '@audit-pipeline/kafka'

/** Every metric the alerting service exports, declared on the registry given (a fresh one per test). */
export function createAlertingMetrics(registry: Registry) {
  const registers = [registry]
  return {
    /** The consumer runtime's, per consumer group (the evaluator's, each receiver's, the conflict alerts'): lag, restarts, outages. */
    consumer: createConsumerMetrics(registry, 'audit_alerting'),
    eventsEvaluated: new Counter({
      name: 'audit_alerting_events_evaluated_total',
      help: 'Events evaluated against the rules.',
      registers,
    }),
    eventsLate: new Counter({
      name: 'audit_alerting_events_late_total',
      help: 'Events older than the watermark (beyond the allowed lateness): kept out of windows, still seen by the other kinds.',
      registers,
    }),
    eventsOutOfOrder: new Counter({
      name: 'audit_alerting_events_out_of_order_total',
      help: 'Events older than the newest seen but within the allowed lateness: counted in their windows.',
      registers,
    }),
    eventsDeadLettered: new Counter({
      name: 'audit_alerting_events_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic, by error class: one that does not decode (EVENT_UNDECODABLE, SCHEMA_UNKNOWN), JSON nested too deep (EVENT_TOO_DEEP), an evaluation that failed (RECORD_FAILED).',
      labelNames: ['reason'] as const,
      registers,
    }),
    ruleMatches: new Counter({
      name: 'audit_alerting_rule_matches_total',
      help: 'Events that passed a rule’s filter, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    alerts: new Counter({
      name: 'audit_alerting_alerts_total',
      help: 'Alerts produced, by rule and status (raised, resolved).',
      labelNames: ['rule', 'status'] as const,
      registers,
    }),
    alertsSuppressed: new Counter({
      name: 'audit_alerting_alerts_suppressed_total',
      help: 'Alerts not raised because the group had one within reAlertAfter, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    expressionErrors: new Counter({
      name: 'audit_alerting_expression_errors_total',
      help: 'Rule expressions that failed on an event (a field it lacks): counted as no match, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    ruleBudgetExceeded: new Counter({
      name: 'audit_alerting_rule_budget_exceeded_total',
      help: 'Evaluations of one event by one rule that took longer than ALERTING_RULE_BUDGET_MS, by rule.',
      labelNames: ['rule'] as const,
      registers,
    }),
    rulesDisabled: new Gauge({
      name: 'audit_alerting_rules_disabled',
      help: 'Rules disabled for overrunning their time budget too often (1), by rule, until the rules are reloaded or the service restarts.',
      labelNames: ['rule'] as const,
      registers,
    }),
    stateEntries: new Gauge({
      name: 'audit_alerting_state_entries',
      help: 'Entries held in memory (and in the changelog), by store: a rule id, or entity.',
      labelNames: ['store'] as const,
      registers,
    }),
    transactionSeconds: new Histogram({
      name: 'audit_alerting_transaction_duration_seconds',
      help: 'One batch’s transaction (alerts, state changes, offsets), seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    rulesReloads: new Counter({
      name: 'audit_alerting_rules_reloads_total',
      help: 'SIGHUP reloads of the rules file, by result (applied, refused).',
      labelNames: ['result'] as const,
      registers,
    }),
    rulesLoaded: new Gauge({
      name: 'audit_alerting_rules_loaded',
      help: 'Rules in force.',
      registers,
    }),
    conflictAlerts: new Counter({
      name: 'audit_alerting_conflict_alerts_total',
      help: 'Security alerts (pipeline.event-id-conflict) written for EVENT_ID_CONFLICT dead letters, once Kafka acknowledged them.',
      registers,
    }),
    deadLettersUnreadable: new Counter({
      name: 'audit_alerting_dead_letters_unreadable_total',
      help: 'Messages on the conflict input topics skipped as unreadable, by reason: not a dead letter (NOT_A_DEAD_LETTER), an EVENT_ID_CONFLICT without a valid conflict (CONFLICT_INVALID), its alert could not be built (RECORD_FAILED).',
      labelNames: ['reason'] as const,
      registers,
    }),
    deliveries: new Counter({
      name: 'audit_alerting_webhook_deliveries_total',
      help: 'Webhook attempts by receiver and status (delivered, retried, rejected by the receiver, refused by the address guard before sending, failed).',
      labelNames: ['receiver', 'status'] as const,
      registers,
    }),
    deliverySeconds: new Histogram({
      name: 'audit_alerting_webhook_delivery_seconds',
      help: 'From the alert raised (sent at once) or written to the alerts topic (sent after its commit) to the receiver’s 2xx, retries included, seconds, by receiver.',
      labelNames: ['receiver'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600],
      registers,
    }),
    webhookAlertsSent: new Counter({
      name: 'audit_alerting_webhook_alerts_sent_total',
      help: 'Alerts whose delivery started, by receiver and path: at_once (as the evaluator raised it, before its transaction committed) or after_commit (once read back from the alerts topic: a backlog from before the start, the at-once queue full, its partition held, or sent again after a restart).',
      labelNames: ['receiver', 'path'] as const,
      registers,
    }),
    webhookAtOnceQueue: new Gauge({
      name: 'audit_alerting_webhook_at_once_queue',
      help: 'Alerts waiting to be sent at once, by receiver (at most 1000; more go by the topic path).',
      labelNames: ['receiver'] as const,
      registers,
    }),
  }
}

export type AlertingMetrics = ReturnType<typeof createAlertingMetrics>
