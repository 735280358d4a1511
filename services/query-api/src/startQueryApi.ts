import type { Kafka } from 'kafkajs'
import { schemaRegistryClient } from '@audit-pipeline/codec'
import { createAuditProducer } from '@audit-pipeline/producer'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { watchKeyRing, type KeyRing } from './access/keyRing.js'
import { createAccessAudit } from './accessAudit.js'
import type { QueryApiConfig } from './config.js'
import type { QueryApiMetrics } from './metrics.js'
import { serveQueryApi, type QueryApiServer } from './server.js'

export type RunningQueryApi = {
  api: QueryApiServer
  /** The keys in use; they follow the keys file, and `keys.reload()` re-reads it (SIGHUP). */
  keys: KeyRing
  /** Stops the API (requests in flight finish), the keys file's watch, then the access-audit producer. Leaves the storage open. */
  close: () => Promise<void>
}

/**
 * The query API of a process, over a storage the process opened: its keys, following the keys
 * file, its access-audit producer and the listening server. Its own process (main.ts) and the
 * sink's process (deploy/sink-with-query-api, for embedded ClickHouse) both start it this way.
 */
export async function startQueryApi(options: {
  config: QueryApiConfig
  storage: Storage
  kafka: Kafka
  log: Logger
  metrics: QueryApiMetrics
}): Promise<RunningQueryApi> {
  const { config, storage, kafka, log, metrics } = options
  const keys = watchKeyRing({ file: config.keysFile, keys: config.keys, log })
  let producer: Awaited<ReturnType<typeof createAuditProducer>> | undefined
  try {
    producer = await createAuditProducer({
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
      keys,
      audit: createAccessAudit({ producer, platformTenant: config.accessAuditTenant }),
      log,
      metrics,
      limits: config.limits,
    })
    const started = producer
    return {
      api,
      keys,
      close: async () => {
        await api.close()
        keys.close()
        await started.close()
      },
    }
  } catch (error) {
    keys.close()
    await producer?.close()
    throw error
  }
}
