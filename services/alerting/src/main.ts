#!/usr/bin/env node
// The alerting process: configuration, clients, service, ops server, signals. Everything it wires
// is a module a test can build without a process (service/alertingService.ts).
import { hostname } from 'node:os'
import { checkReadableFiles } from '@audit-pipeline/config'
import { createKafka, kafkaLogsTo, waitForCodec } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  exitCodes,
  serveService,
} from '@audit-pipeline/service-runtime'
import { loadAlertingConfig } from './config.js'
import { ReceiversRefusedError } from './delivery/receiverHosts.js'
import { createAlertingMetrics } from './metrics.js'
import { createAlertingService } from './service/alertingService.js'

const config = configOrExit('audit-alerting', () => {
  const loaded = loadAlertingConfig(process.env)
  // The service reads these itself (the rules again on SIGHUP); a file it cannot read is
  // configuration too, exit code 2 like a file with problems.
  checkReadableFiles({
    ALERTING_RULES_FILE: loaded.rulesFile,
    ALERTING_RECEIVERS_FILE: loaded.receiversFile,
  })
  return loaded
})

const log = createLogger({ service: 'alerting', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'alerting' })
const metrics = createAlertingMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const codec = await waitForCodec(
    config.schemaRegistry,
    { autoRegister: false },
    { log, outage: config.consumer.outage },
  )
  // Reads the rules and receivers files: their problems exit with code 2, below.
  const service = createAlertingService({
    config,
    kafka,
    codec,
    metrics,
    log,
    env: process.env,
    source: { instance: hostname(), version: process.env['npm_package_version'] ?? null },
    // Only when KAFKA_OUTAGE_GIVE_UP_MS is set, or another instance fenced the evaluator: by
    // default a failed transaction or a broker outage restarts a consumer, never the process.
    onGiveUp: () => setImmediate(() => process.exit(exitCodes.failed)),
  })
  await serveService({
    service: { ...service, reload: () => service.reloadRules() },
    ops: config.ops,
    registry,
    log,
  })
} catch (error) {
  if (error instanceof ReceiversRefusedError) {
    // A receiver resolves to an address it may not reach: say which, as the forwarder does.
    log.fatal({ problem: error.message }, `could not start: ${error.message}`)
    process.exit(exitCodes.failed)
  }
  exitAfterStartFailure('audit-alerting', log, error)
}
