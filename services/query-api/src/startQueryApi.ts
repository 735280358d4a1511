import type { Kafka } from 'kafkajs'
import { schemaRegistryClient } from '@audit-pipeline/codec'
import { createAuditProducer } from '@audit-pipeline/producer'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { createAccessAudit } from './accessAudit.js'
import type { QueryApiConfig } from './config.js'
import type { QueryApiMetrics } from './metrics.js'
import { serveQueryApi, type QueryApiServer } from './server.js'

export type RunningQueryApi = {
  api: QueryApiServer
  /** Stops the API (requests in flight finish), then the access-audit producer. Leaves the storage open. */
  close: () => Promise<void>
}

/**
 * The query API of a process, over a storage the process opened: its access-audit producer and
 * the listening server. Its own process (main.ts) and the sink's process (sinkWithQueryApi.ts,
 * for embedded ClickHouse) both start it this way.
 */
export async function startQueryApi(options: {
  config: QueryApiConfig
  storage: Storage
  kafka: Kafka
  log: Logger
  metrics: QueryApiMetrics
}): Promise<RunningQueryApi> {
  const { config, storage, kafka, log, metrics } = options
  const producer = await createAuditProducer({
    kafka,
    registry: schemaRegistryClient(config.schemaRegistry),
    endpoints: { brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url },
    topic: config.accessAuditTopic,
    defaults: { source: { service: 'audit-query-api' }, category: 'security' },
  })
  try {
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
    return {
      api,
      close: async () => {
        await api.close()
        await producer.close()
      },
    }
  } catch (error) {
    await producer.close()
    throw error
  }
}
