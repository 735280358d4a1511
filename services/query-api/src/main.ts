#!/usr/bin/env node
// The query API process: configuration, storage, the API with its access auditing, ops server,
// signals. Everything it wires is a module a test can build without a process (app.ts, server.ts).
import { createKafka, kafkaLogsTo } from '@audit-pipeline/kafka'
import {
  configOrExit,
  createLogger,
  createMetricsRegistry,
  exitAfterStartFailure,
  handleSignals,
  startOpsServer,
} from '@audit-pipeline/service-runtime'
import { openStorage } from '@audit-pipeline/storage'
import { loadQueryApiConfig } from './config.js'
import { createQueryApiMetrics } from './metrics.js'
import { startQueryApi } from './startQueryApi.js'

const config = configOrExit('audit-query-api', () => loadQueryApiConfig(process.env))

const log = createLogger({ service: 'query-api', level: config.ops.logLevel })
const registry = createMetricsRegistry({ service: 'query-api' })
const metrics = createQueryApiMetrics(registry)
const kafka = createKafka(config.kafka, { logCreator: kafkaLogsTo(log.child({ component: 'kafkajs' })) })
let serving = false

try {
  const { clickhouse } = config
  const storage = await openStorage(clickhouse)
  // Embedded: `USE` needs the database before the sink has made it. A server's API user may not
  // create databases (and runs nothing without a key's roles): there the sink's migrations do.
  if (storage.describe().transport === 'embedded') await storage.ensureDatabase(clickhouse.database)
  const queryApi = await startQueryApi({ config, storage, kafka, log, metrics })
  const { api } = queryApi
  serving = true
  const ops = await startOpsServer({
    host: config.ops.host,
    port: config.ops.port,
    registry,
    checks: {
      live: () => ({ ok: true }),
      ready: () => ({ ok: serving, details: { keys: queryApi.keys.size } }),
    },
    log,
  })
  handleSignals({
    log,
    // The keys file and the analyst visibility file are also watched; SIGHUP is for when a watch
    // cannot see changes (some network and container mounts).
    reload: () => queryApi.reload(),
    stop: async () => {
      serving = false
      await queryApi.close()
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
  exitAfterStartFailure('audit-query-api', log, error)
}
