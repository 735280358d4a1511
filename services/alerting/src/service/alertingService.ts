import { readFileSync } from 'node:fs'
import type { Kafka, Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { waitForKafka } from '@audit-pipeline/kafka'
import type { ResolveAll } from '@audit-pipeline/outbound'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertSource } from '../alerts/alertEvent.js'
import type { AlertingConfig } from '../config.js'
import { checkReceiverHosts, ReceiversRefusedError } from '../delivery/receiverHosts.js'
import type { RaisedAlert } from '../delivery/receiverDeliveries.js'
import { parseReceivers } from '../delivery/receivers.js'
import { createAlertEngine } from '../engine/alertEngine.js'
import type { AlertingMetrics } from '../metrics.js'
import { parseRules, type RuleSet } from '../rules/parseRules.js'
import { prepareTopics } from './alertingTopics.js'
import { createConflictAlerts, type ConflictAlerts } from './conflictAlerts.js'
import { createEvaluator, type Evaluator } from './evaluator.js'
import { createWebhookDelivery, type WebhookDelivery } from './webhookDelivery.js'

export type AlertingServiceOptions = {
  config: AlertingConfig
  kafka: Kafka
  codec: AuditEventCodec
  metrics: AlertingMetrics
  log: Logger
  env: Record<string, string | undefined>
  source: AlertSource
  readFile?: (path: string) => string
  /**
   * A consumer failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (by default none ever gives up), or
   * the evaluator was fenced by another instance: the process should exit (main.ts does). Nothing
   * else ends the service: a failed transaction or delivery restarts that consumer from its last
   * commit.
   */
  onGiveUp?: (error: unknown) => void
  /** Test seam: wraps each transactional producer the evaluator creates (a test fails a transaction). */
  wrapProducer?: (producer: Producer) => Producer
  /** The resolver behind the receivers' address checks (start-up and every connect); tests give their own. */
  resolve?: ResolveAll
}

/**
 * The evaluator, the conflict alerts (a security alert per EVENT_ID_CONFLICT dead letter) and one
 * webhook delivery per receiver, started and stopped together. Reading the rules or receivers file
 * fails the start naming file, line and field; a bad file on reload is refused and the rules in
 * force stay.
 */
export function createAlertingService(options: AlertingServiceOptions) {
  const { config, kafka, codec, metrics, log } = options
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const loadRules = (): RuleSet => parseRules(readFile(config.rulesFile), config.rulesFile)
  const rules = loadRules()
  // Called at start and again after every restart of the evaluator, which restores the state.
  const createEngine = (ruleSet: RuleSet) =>
    createAlertEngine({
      rules: ruleSet,
      allowedLatenessMs: config.allowedLatenessMs,
      maxGroupsPerRule: config.maxGroupsPerRule,
      maxEntities: config.maxEntities,
      checkIntervalMs: config.checkIntervalMs,
      idlePartitionMs: config.idlePartitionMs,
      ruleBudget: config.ruleBudget,
    })
  const receivers =
    config.receiversFile === undefined
      ? []
      : parseReceivers(readFile(config.receiversFile), config.receiversFile, { env: options.env, readFile })
  // Built before the evaluator: it hands them each alert as it is raised.
  const deliveries = receivers.map((receiver) =>
    createWebhookDelivery({
      config,
      kafka,
      codec,
      receiver,
      metrics,
      log: log.child({ receiver: receiver.name }),
      ...(options.resolve && { resolve: options.resolve }),
      ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    }),
  )
  const evaluator = createEvaluator({
    config,
    kafka,
    codec,
    rules,
    createEngine,
    metrics,
    log,
    source: options.source,
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    ...(options.wrapProducer && { wrapProducer: options.wrapProducer }),
    ...(deliveries.length > 0 && {
      onRaised: (alerts: readonly RaisedAlert[]) => {
        for (const delivery of deliveries) for (const alert of alerts) delivery.offer(alert)
      },
    }),
  })
  const conflicts = createConflictAlerts({
    config,
    kafka,
    codec,
    metrics,
    log: log.child({ component: 'conflict-alerts' }),
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
  })
  const parts = () => [
    { name: 'evaluator', part: evaluator },
    { name: 'conflict alerts', part: conflicts },
    ...deliveries.map((delivery) => ({ name: `receiver ${delivery.receiver}`, part: delivery })),
  ]
  /** Ok when every part is; otherwise the reports of those that are not, by part. */
  const combine = (
    check: (part: Evaluator | ConflictAlerts | WebhookDelivery) => CheckReport,
  ): CheckReport => {
    const failing = parts()
      .map(({ name, part }) => [name, check(part)] as const)
      .filter(([, report]) => !report.ok)
    return failing.length === 0
      ? { ok: true }
      : { ok: false, details: Object.fromEntries(failing.map(([name, report]) => [name, report.details])) }
  }
  /** Aborted by stop: a start still waiting for Kafka gives up waiting. */
  const stopping = new AbortController()

  return {
    async start() {
      const hosts = await checkReceiverHosts(receivers, options.resolve)
      for (const { receiver, host, error } of hosts.unresolved) {
        log.warn(
          { receiver, host, err: error },
          'receiver host does not resolve now; checked again on each connection',
        )
      }
      if (hosts.refusals.length > 0) throw new ReceiversRefusedError(hosts.refusals)
      // Started before its broker (or during a restart of it), the service comes up when Kafka does;
      // missing input topics are the operator's to fix and stop the start at once.
      const created = await waitForKafka('prepare the topics', () => prepareTopics(kafka, config), {
        log,
        outage: config.consumer.outage,
        signal: stopping.signal,
      })
      if (created.length > 0) log.info({ topics: created }, 'created the service’s topics')
      await evaluator.start()
      await conflicts.start()
      for (const delivery of deliveries) await delivery.start()
      log.info(
        {
          input: config.inputTopics,
          conflictInput: config.conflictInputTopics,
          alerts: config.alertsTopic,
          rules: rules.rules.map((rule) => rule.id),
          receivers: receivers.map((receiver) => receiver.name),
        },
        'alerting started',
      )
    },
    /** SIGHUP: reads the rules file again; a file that does not parse is refused, the old rules stay. */
    reloadRules() {
      try {
        const rules = loadRules()
        evaluator.replaceRules(rules)
        metrics.rulesReloads.inc({ result: 'applied' })
        log.info(
          { rules: rules.rules.map((rule) => rule.id) },
          'rules reloaded; in force from the next batch',
        )
      } catch (error) {
        metrics.rulesReloads.inc({ result: 'refused' })
        throw error
      }
    },
    /**
     * Stops every part (evaluator, conflict alerts, deliveries) side by side, each within the
     * shutdown deadline; each receiver first waits (a little) for the evaluator's last
     * transaction and for what it sent at once to be read back, so a restart does not send it again.
     */
    async stop() {
      stopping.abort()
      const evaluatorStopped = evaluator.stop()
      // In the order of parts(), which names a failure.
      const results = await Promise.allSettled([
        evaluatorStopped,
        conflicts.stop(),
        ...deliveries.map((delivery) => delivery.stop({ evaluatorStopped })),
      ])
      for (const [index, result] of results.entries()) {
        if (result.status === 'rejected')
          log.error({ err: result.reason, part: parts()[index]?.name }, 'stopping failed')
      }
    },
    live: () => combine((part) => part.live()),
    ready: () => combine((part) => part.ready()),
  }
}

export type AlertingService = ReturnType<typeof createAlertingService>
