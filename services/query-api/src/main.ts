#!/usr/bin/env node
// The query API process: configuration, storage, access auditing, the API, ops server, signals.
// Everything it wires is a module a test can build without a process (app.ts, server.ts).
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { ConfigError } from '@audit-pipeline/config'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import { createAuditProducer } from '@audit-pipeline/producer'
import {
  createLogger,
  createMetricsRegistry,
  handleSignals,
  startOpsServer,
} from '@audit-pipeline/service-runtime'
import { openStorage } from '@audit-pipeline/storage'
import { createAccessAudit } from './accessAudit.js'
import { loadQueryApiConfig } from './config.js'
import { createQueryApiMetrics } from './metrics.js'
import { serveQueryApi } from './server.js'

let config
try {
  config = loadQueryApiConfig(process.env)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`audit-query-api: ${error.message}\n`)
  process.exit(2)
}

const log = createLogger({ service: 'query-api', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'query-api' })
const metrics = createQueryApiMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })
let serving = false

try {
  const { clickhouse } = config
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
  const producer = await createAuditProducer({
    kafka,
    registry: new SchemaRegistry({
      host: config.schemaRegistry.url,
      ...(config.schemaRegistry.username && {
        auth: { username: config.schemaRegistry.username, password: config.schemaRegistry.password ?? '' },
      }),
    }),
    endpoints: { brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url },
    topic: config.accessAuditTopic,
    defaults: { source: { service: 'audit-query-api' }, category: 'security' },
  })
  const api = await serveQueryApi({
    host: config.host,
    port: config.port,
    storage,
    keys: config.keys,
    audit: createAccessAudit({ producer, platformTenant: config.accessAuditTenant }),
    log,
    metrics,
    limits: config.limits,
  })
  serving = true
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: {
      live: () => ({ ok: true }),
      ready: () => ({ ok: serving, details: { keys: config.keys.length } }),
    },
    log,
  })
  handleSignals({
    log,
    stop: async () => {
      serving = false
      await api.close()
      await producer.close()
      await ops.close()
      await storage.close()
    },
  })
  log.info(
    {
      api: api.url,
      openapi: `${api.url}/openapi.json`,
      ready: `${ops.url}/readyz`,
      storage: storage.describe(),
    },
    'ready',
  )
} catch (error) {
  log.fatal({ err: error }, 'could not start')
  process.exit(1)
}
