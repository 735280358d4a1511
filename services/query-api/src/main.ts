#!/usr/bin/env node
// The query API process: configuration, storage, access auditing, the API, ops server, signals.
// Everything it wires is a module a test can build without a process (app.ts, server.ts).
import { schemaRegistryClient } from '@audit-pipeline/codec'
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import { createAuditProducer } from '@audit-pipeline/producer'
import {
  configOrExit,
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

const config = configOrExit('audit-query-api', () => loadQueryApiConfig(process.env))

const log = createLogger({ service: 'query-api', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'query-api' })
const metrics = createQueryApiMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })
let serving = false

try {
  const { clickhouse } = config
  const storage = await openStorage(clickhouse)
  await storage.ensureDatabase(clickhouse.database)
  const producer = await createAuditProducer({
    kafka,
    registry: schemaRegistryClient(config.schemaRegistry),
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
