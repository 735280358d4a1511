#!/usr/bin/env node
// The alerting process: configuration, clients, service, ops server, signals. Everything it wires
// is a module a test can build without a process (service/alertingService.ts).
import { hostname } from 'node:os'
import { createAuditEventCodec, schemaRegistryClient } from '@audit-pipeline/codec'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  serveService,
} from '@audit-pipeline/service-runtime'
import { loadAlertingConfig } from './config.js'
import { ReceiversRefusedError } from './delivery/receiverHosts.js'
import { createAlertingMetrics } from './metrics.js'
import { RulesConfigError } from './rules/rulesConfigError.js'
import { createAlertingService } from './service/alertingService.js'

const config = configOrExit('audit-alerting', () => loadAlertingConfig(process.env))

const log = createLogger({ service: 'alerting', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'alerting' })
const metrics = createAlertingMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const codec = await createAuditEventCodec({
    registry: schemaRegistryClient(config.schemaRegistry),
    autoRegister: false,
  })
  let service
  try {
    service = createAlertingService({
      config,
      kafka,
      codec,
      metrics,
      log,
      env: process.env,
      source: { instance: hostname(), version: process.env['npm_package_version'] ?? null },
      // Memory is ahead of what was committed: restart and restore from the changelog.
      onFatal: () => setImmediate(() => process.exit(1)),
    })
  } catch (error) {
    if (!(error instanceof RulesConfigError)) throw error
    process.stderr.write(`audit-alerting: ${error.message}\n`)
    process.exit(2)
  }
  const running = service
  await serveService({
    service: { ...running, reload: () => running.reloadRules() },
    ops: config.ops,
    registry,
    log,
  })
} catch (error) {
  if (error instanceof ReceiversRefusedError) {
    // A receiver resolves to an address it may not reach: say which, as the forwarder does.
    log.fatal({ problem: error.message }, `could not start: ${error.message}`)
  } else {
    log.fatal({ err: error }, 'could not start')
  }
  process.exit(1)
}
