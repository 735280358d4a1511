import { readFileSync } from 'node:fs'
import type { Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { ResolveAll } from '@audit-pipeline/outbound'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertSource } from '../alerts/alertEvent.js'
import type { AlertingConfig } from '../config.js'
import { checkReceiverHosts, ReceiversRefusedError } from '../delivery/receiverHosts.js'
import { parseReceivers } from '../delivery/receivers.js'
import { createAlertEngine } from '../engine/alertEngine.js'
import type { AlertingMetrics } from '../metrics.js'
import { parseRules, type RuleSet } from '../rules/parseRules.js'
import { prepareTopics } from './alertingTopics.js'
import { createEvaluator } from './evaluator.js'
import { createWebhookDelivery } from './webhookDelivery.js'

export type AlertingServiceOptions = {
  config: AlertingConfig
  kafka: Kafka
  codec: AuditEventCodec
  metrics: AlertingMetrics
  log: Logger
  env: Record<string, string | undefined>
  source: AlertSource
  readFile?: (path: string) => string
  onFatal?: (error: unknown) => void
  /** The resolver behind the receivers' address checks (start-up and every connect); tests give their own. */
  resolve?: ResolveAll
}

/**
 * The evaluator and one webhook delivery per receiver, started and stopped together. Reading the
 * rules or receivers file fails the start naming file, line and field; a bad file on reload is
 * refused and the rules in force stay.
 */
export function createAlertingService(options: AlertingServiceOptions) {
  const { config, kafka, codec, metrics, log } = options
  const readFile = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'))
  const loadRules = (): RuleSet => parseRules(readFile(config.rulesFile), config.rulesFile)
  const engine = createAlertEngine({
    rules: loadRules(),
    allowedLatenessMs: config.allowedLatenessMs,
    maxGroupsPerRule: config.maxGroupsPerRule,
    maxEntities: config.maxEntities,
    checkIntervalMs: config.checkIntervalMs,
    idlePartitionMs: config.idlePartitionMs,
  })
  const receivers =
    config.receiversFile === undefined
      ? []
      : parseReceivers(readFile(config.receiversFile), config.receiversFile, { env: options.env, readFile })
  const evaluator = createEvaluator({
    config,
    kafka,
    codec,
    engine,
    metrics,
    log,
    source: options.source,
    ...(options.onFatal && { onFatal: options.onFatal }),
  })
  const deliveries = receivers.map((receiver) =>
    createWebhookDelivery({
      config,
      kafka,
      codec,
      receiver,
      metrics,
      log: log.child({ receiver: receiver.name }),
      ...(options.resolve && { resolve: options.resolve }),
    }),
  )
  const checks = () => [evaluator, ...deliveries]
  const combine = (reports: CheckReport[]): CheckReport =>
    reports.every((report) => report.ok)
      ? { ok: true }
      : {
          ok: false,
          details: Object.assign(
            {},
            ...reports.filter((report) => !report.ok).map((report) => report.details),
          ) as Record<string, unknown>,
        }

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
      const created = await prepareTopics(kafka, config)
      if (created.length > 0) log.info({ topics: created }, 'created the service’s topics')
      await evaluator.start()
      for (const delivery of deliveries) await delivery.start()
      log.info(
        {
          input: config.inputTopics,
          alerts: config.alertsTopic,
          rules: engine.rules().map((rule) => rule.id),
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
    async stop() {
      await Promise.all(deliveries.map((delivery) => delivery.stop()))
      await evaluator.stop()
    },
    live: () => combine(checks().map((check) => check.live())),
    ready: () => combine(checks().map((check) => check.ready())),
  }
}

export type AlertingService = ReturnType<typeof createAlertingService>
