#!/usr/bin/env node
// The sink process: configuration, clients, storage, service, ops server, signals. Everything it
// wires is a module a test can build without a process (sink.ts).
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { ConfigError } from '@audit-pipeline/config'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import {
  createLogger,
  createMetricsRegistry,
  handleSignals,
  startOpsServer,
} from '@audit-pipeline/service-runtime'
import { batchWriterAllocatorConf, openStorage } from '@audit-pipeline/storage'
import { loadSinkConfig } from './config.js'
import { createSinkMetrics } from './metrics.js'
import { createSink } from './sink.js'

let config
try {
  config = loadSinkConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`audit-clickhouse-sink: ${error.message}\n`)
  process.exit(2)
}

const log = createLogger({ service: 'clickhouse-sink', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'clickhouse-sink' })
const metrics = createSinkMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })

try {
  const { clickhouse } = config
  // Embedded: hand freed memory back between batches (about 250 MB less RSS for about 15% more CPU).
  if (clickhouse.kind === 'embedded') process.env['JE_MALLOC_CONF'] ??= batchWriterAllocatorConf
  const storage = await openStorage(
    clickhouse.kind === 'http'
      ? {
          kind: 'http',
          url: clickhouse.url,
          database: clickhouse.database,
          ...(clickhouse.username && { username: clickhouse.username }),
          ...(clickhouse.password && { password: clickhouse.password }),
        }
      : { kind: 'embedded', dataPath: clickhouse.dataPath, database: clickhouse.database },
  )
  await storage.ensureDatabase(clickhouse.database)
  const codec = await createAuditEventCodec({
    registry: new SchemaRegistry({
      host: config.schemaRegistry.url,
      ...(config.schemaRegistry.username && {
        auth: { username: config.schemaRegistry.username, password: config.schemaRegistry.password ?? '' },
      }),
    }),
    autoRegister: false,
  })
  const sink = createSink({
    config,
    kafka,
    codec,
    storage,
    metrics,
    log,
    // The batch is read again after the restart; exiting is safer than running on without commits.
    onFatal: () => setImmediate(() => process.exit(1)),
  })
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: { live: () => sink.live(), ready: () => sink.ready() },
    log,
  })
  handleSignals({
    log,
    stop: async () => {
      await sink.stop()
      await ops.close()
      await storage.close()
    },
  })
  await sink.start()
  log.info(
    { metrics: `${ops.url}/metrics`, ready: `${ops.url}/readyz`, storage: storage.describe() },
    'ready',
  )
} catch (error) {
  log.fatal({ err: error }, 'could not start')
  process.exit(1)
}
