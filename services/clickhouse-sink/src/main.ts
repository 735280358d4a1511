#!/usr/bin/env node
// The sink process: configuration, clients, storage, service, ops server, signals. Everything it
// wires is a module a test can build without a process (sink.ts).
import { createKafka, kafkaLogsTo, waitForCodec } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  exitCodes,
  serveService,
} from '@audit-pipeline/service-runtime'
import { loadSinkConfig } from './config.js'
import { createSinkMetrics } from './metrics.js'
import { openSinkStorage } from './openSinkStorage.js'
import { createSink } from './sink.js'

const config = configOrExit('audit-clickhouse-sink', () => loadSinkConfig(process.env))

const log = createLogger({ service: 'clickhouse-sink', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'clickhouse-sink' })
const metrics = createSinkMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const storage = await openSinkStorage(config.clickhouse)
  const codec = await waitForCodec(
    config.schemaRegistry,
    { autoRegister: false },
    { log, outage: config.consumer.outage },
  )
  const sink = createSink({
    config,
    kafka,
    codec,
    storage,
    metrics,
    log,
    // Only when Kafka failed past KAFKA_OUTAGE_GIVE_UP_MS (default never); a batch that could not
    // be written is read again from the last commit, without exiting.
    onGiveUp: () => setImmediate(() => process.exit(exitCodes.failed)),
  })
  await serveService({
    service: sink,
    ops: config.ops,
    registry,
    log,
    close: () => storage.close(),
    readyDetails: { storage: storage.describe() },
  })
} catch (error) {
  exitAfterStartFailure('audit-clickhouse-sink', log, error)
}
