import type { Kafka } from 'kafkajs'
import { schemaRegistryClient } from '@audit-pipeline/codec'
import { openLocalKeyStore, type KeyStore } from '@audit-pipeline/field-encryption'
import { createAuditProducer } from '@audit-pipeline/producer'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { watchAnalystVisibility, type FollowedAnalystVisibility } from './access/analystVisibilityWatch.js'
import { watchKeyRing, type KeyRing } from './access/keyRing.js'
import { createAccessAudit } from './accessAudit.js'
import type { QueryApiConfig } from './config.js'
import type { QueryApiMetrics } from './metrics.js'
import { serveQueryApi, type QueryApiServer } from './server.js'

export type RunningQueryApi = {
  api: QueryApiServer
  /** The keys in use; they follow the keys file, and `keys.reload()` re-reads it (SIGHUP). */
  keys: KeyRing
  /** What analysts see of actor details and attributes; follows QUERY_API_ANALYST_VISIBILITY_FILE. */
  analystVisibility: FollowedAnalystVisibility
  /**
   * Reads the keys file and the analyst visibility file again (SIGHUP): both are tried, and a
   * file that is unusable keeps what it had; throws its problem (both: an AggregateError).
   */
  reload: () => void
  /** Stops the API (requests in flight finish), the files' watches, then the access-audit producer. Leaves the storage open. */
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
  const fieldKeys = fieldKeyStore(config, log)
  const keys = watchKeyRing({ file: config.keysFile, keys: config.keys, log })
  const analystVisibility = watchAnalystVisibility({
    file: config.analystVisibilityFile,
    visibility: config.analystVisibility,
    log,
  })
  const stopFollowing = () => {
    keys.close()
    analystVisibility.close()
  }
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
      analystVisibility,
      ...(fieldKeys && { fieldKeys }),
    })
    const started = producer
    return {
      api,
      keys,
      analystVisibility,
      reload: () => reloadAll([keys, analystVisibility]),
      close: async () => {
        await api.close()
        stopFollowing()
        await started.close()
      },
    }
  } catch (error) {
    stopFollowing()
    await producer?.close()
    throw error
  }
}

/**
 * The key store auditors' sealed values open with, from FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE.
 * The API only looks keys up by id (never caches a subject's key: that is `cacheMs`), and
 * openEvents does so on every answer, so an erasure shows in the very next one. Without the
 * settings, one warning: sealed values reach auditors as stored.
 */
export function fieldKeyStore(
  config: Pick<QueryApiConfig, 'fieldKeys'>,
  log: Pick<Logger, 'warn'>,
): KeyStore | undefined {
  if (config.fieldKeys === undefined) {
    log.warn(
      'FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE are not set: auditors see sealed values (enc:v1:…) as stored, not opened (services/query-api/README.md, "Sealed values")',
    )
    return undefined
  }
  const { directory, keyEncryptionKey } = config.fieldKeys
  return openLocalKeyStore({ directory, keyEncryptionKey, cacheMs: 0 })
}

/** Reloads each file, even after one failed (which keeps what it had); then throws its error, or an AggregateError of several. */
export function reloadAll(files: readonly { reload(): void }[]): void {
  const failures: unknown[] = []
  for (const file of files) {
    try {
      file.reload()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length === 1) throw failures[0]
  if (failures.length > 1) throw new AggregateError(failures, 'more than one file could not be reloaded')
}
