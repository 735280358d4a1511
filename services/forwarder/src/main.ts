#!/usr/bin/env node
// The forwarder process: configuration, destinations, clients, service, ops server, signals.
// Everything it wires is a module a test can build without a process (forwarder.ts).
import { createAuditEventCodec, schemaRegistryClient } from '@audit-pipeline/codec'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import { createLogger, createMetricsRegistry, serveService } from '@audit-pipeline/service-runtime'
import { loadForwarderConfig } from './config.js'
import { loadDestinations } from './destinations/loadDestinations.js'
import { createForwarder, ForwarderStartError } from './forwarder.js'
import { createForwarderMetrics } from './metrics.js'

let config
let destinations
try {
  config = loadForwarderConfig(process.env)
  destinations = loadDestinations(config.destinationsFile, process.env)
} catch (error) {
  // ConfigError, DestinationsConfigError or an unreadable file: each message names what to fix.
  if (!(error instanceof Error)) throw error
  process.stderr.write(`audit-forwarder: ${error.message}\n`)
  process.exit(2)
}

const log = createLogger({ service: 'forwarder', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'forwarder' })
const metrics = createForwarderMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const codec = await createAuditEventCodec({
    registry: schemaRegistryClient(config.schemaRegistry),
    autoRegister: false,
  })
  const forwarder = createForwarder({
    config,
    destinations,
    kafka,
    codec,
    metrics,
    log,
    // Nothing more is committed after dead letters failed; the restart reads the batch again.
    onFatal: () => setImmediate(() => process.exit(1)),
  })
  await serveService({ service: forwarder, ops: config.ops, registry, log })
} catch (error) {
  if (error instanceof ForwarderStartError) {
    log.fatal({ problem: error.message }, `could not start: ${error.message}`)
  } else {
    log.fatal({ err: error }, 'could not start')
  }
  process.exit(1)
}
