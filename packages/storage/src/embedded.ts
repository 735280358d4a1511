import { resolve } from 'node:path'
import { createClient } from '@clickhouse/client'
import { quoteDatabaseName } from './databaseName.js'
import { dataDirOwner } from './dataDirOwner.js'
import {
  createEmbeddedConnection,
  type ChdbConnection,
  type EmbeddedConnection,
} from './embeddedConnection.js'
import { pingStorage } from './ping.js'
import type { Storage } from './storage.js'
import type { EmbeddedStorageConfig } from './storageConfig.js'
import { StorageError } from './storageError.js'

// chDB runs one engine per process, bound to one data directory: any number of connections to
// that directory, none to another until the last one is closed and drained.
let bound: { dataPath: string; users: number } | undefined

/**
 * jemalloc options for a process whose chDB writes batches: freed pages go back to the system at
 * once. Takes effect only if set (as `JE_MALLOC_CONF`) before chDB loads, i.e. before the first
 * embedded storage opens; see README.md, "Embedded memory", for what it costs.
 */
export const batchWriterAllocatorConf = 'dirty_decay_ms:0,muzzy_decay_ms:0'
let released: Promise<void> = Promise.resolve()

/**
 * Opens embedded ClickHouse on `config.dataPath`. Several storages in one process may share the
 * directory (tests: one directory per process, one database per test); a second directory, or
 * a directory another process holds, is refused with a StorageError that says so.
 */
export async function openEmbeddedStorage(config: EmbeddedStorageConfig): Promise<Storage> {
  const dataPath = resolve(config.dataPath)
  const { database } = config
  if (database !== undefined) quoteDatabaseName(database)
  // Imported here rather than at the top: loading chDB maps a 560 MB native library (about
  // 150 ms and 160 MB of RSS), which HTTP users and unit tests should not pay for.
  const { createChdbConnection } = await import('chdb/connection')

  while (bound?.users === 0) await released
  if (bound !== undefined && bound.dataPath !== dataPath) {
    throw new StorageError(
      'EMBEDDED_DATA_DIR_CONFLICT',
      `embedded ClickHouse already has data directory ${bound.dataPath} open in this process and ` +
        `cannot open ${dataPath} as well (one data directory per process): use one directory ` +
        `with a database per purpose, or close the other storage first`,
      false,
    )
  }
  let connection: EmbeddedConnection
  try {
    // The cast: chDB types its connection with its own copy of @clickhouse/client-common, whose
    // classes TypeScript treats as distinct from the client's; at run time they are the same shapes.
    const openChdb = () => createChdbConnection({ path: dataPath }) as unknown as ChdbConnection
    connection = createEmbeddedConnection(openChdb, database)
  } catch (error) {
    throw await openFailure(dataPath, error)
  }
  bound = { dataPath, users: (bound?.users ?? 0) + 1 }

  const client = createClient({ connection })
  const where = `embedded:${dataPath}`
  let closing: Promise<void> | undefined
  return {
    client,
    describe: () => ({ transport: 'embedded', dataPath, database: database ?? 'default' }),
    ping: () => pingStorage(client, where),
    ensureDatabase: (name) => connection.createDatabase(name),
    close: () => (closing ??= client.close().finally(release)),
  }
}

async function release(): Promise<void> {
  if (bound === undefined) return
  bound.users -= 1
  if (bound.users > 0) return
  // Set in the same tick as the count reaches zero, so an open arriving meanwhile waits for it.
  // chDB's close() returns before the engine lets go when statements were still running on the
  // connection; until they drain, opening another directory would fail.
  released = (async () => {
    const { drainPending } = await import('chdb')
    await drainPending()
    if (bound?.users === 0) bound = undefined
  })()
  await released
}

async function openFailure(dataPath: string, error: unknown): Promise<StorageError> {
  const owner = await dataDirOwner(dataPath)
  if (owner !== undefined && owner.pid !== process.pid) {
    const pid = owner.pid === undefined ? '' : ` (pid ${owner.pid})`
    return new StorageError(
      'EMBEDDED_DATA_DIR_IN_USE',
      `embedded ClickHouse data directory ${dataPath} is in use by another process${pid}; ` +
        'set CLICKHOUSE_URL to share a ClickHouse server between processes',
      false,
      { cause: error },
    )
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new StorageError(
    'EMBEDDED_OPEN_FAILED',
    `could not open embedded ClickHouse data directory ${dataPath}: ${reason}`,
    false,
    { cause: error },
  )
}
