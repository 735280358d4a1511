#!/usr/bin/env node
// The normalizer process: configuration, clients, service, ops server, signals. Everything it
// wires is a module a test can build without a process (normalizer.ts).
import { createAuditEventCodec, schemaRegistryClient } from '@audit-pipeline/codec'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  serveService,
} from '@audit-pipeline/service-runtime'
import { loadNormalizerConfig } from './config.js'
import { createNormalizer } from './normalizer.js'
import { createNormalizerMetrics } from './metrics.js'
import { RoutesConfigError } from './routing/routesConfigError.js'

const config = configOrExit('audit-normalizer', () => loadNormalizerConfig(process.env))

const log = createLogger({ service: 'normalizer', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'normalizer' })
const metrics = createNormalizerMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })
const schemaRegistry = schemaRegistryClient(config.schemaRegistry)

try {
  const codec = await createAuditEventCodec({
    registry: schemaRegistry,
    autoRegister: config.autoRegisterSchema,
    // The normalizer checks sizes itself, to dead-letter with its own limit and message.
    maxEventBytes: Number.MAX_SAFE_INTEGER,
  })
  const normalizer = createNormalizer({ config, kafka, codec, metrics, log })
  await serveService({
    service: { ...normalizer, reload: () => normalizer.reloadRoutes() },
    ops: config.ops,
    registry,
    log,
    readyDetails: { schemaId: codec.schemaId },
  })
} catch (error) {
  // Start-up errors say what is wrong (routes file line, unreachable broker); log them and exit.
  const routes = error instanceof RoutesConfigError
  log.fatal({ err: error }, routes ? 'the routes file has problems' : 'could not start')
  if (routes) process.stderr.write(`audit-normalizer: ${error.message}\n`)
  process.exit(1)
}
