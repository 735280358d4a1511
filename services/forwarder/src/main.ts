#!/usr/bin/env node
// The forwarder process: configuration, destinations, clients, service, ops server, signals.
// Everything it wires is a module a test can build without a process (forwarder.ts).
import { createKafka, kafkaLogsTo, waitForCodec } from '@audit-pipeline/kafka'
import {
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  exitCodes,
  serveService,
} from '@audit-pipeline/service-runtime'
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
  // ConfigError, DestinationsConfigError or an unreadable file: each message names what to fix,
  // and all of them are configuration (exit code 2).
  if (!(error instanceof Error)) throw error
  process.stderr.write(`audit-forwarder: ${error.message}\n`)
  process.exit(exitCodes.configInvalid)
}

const log = createLogger({ service: 'forwarder', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'forwarder' })
const metrics = createForwarderMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const codec = await waitForCodec(
    config.schemaRegistry,
    { autoRegister: false },
    { log, outage: config.consumer.outage },
  )
  const forwarder = createForwarder({
    config,
    destinations,
    kafka,
    codec,
    metrics,
    log,
    // Only when KAFKA_OUTAGE_GIVE_UP_MS is set: by default a destination waits out any outage.
    onGiveUp: () => setImmediate(() => process.exit(exitCodes.failed)),
  })
  await serveService({ service: forwarder, ops: config.ops, registry, log })
} catch (error) {
  if (error instanceof ForwarderStartError) {
    log.fatal({ problem: error.message }, `could not start: ${error.message}`)
    process.exit(exitCodes.failed)
  }
  exitAfterStartFailure('audit-forwarder', log, error)
}
