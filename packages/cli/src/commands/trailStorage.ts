import { loadConnectionSettings } from '@audit-pipeline/config'
import type { StackState } from '@audit-pipeline/stack-state'
import { StorageError, type Storage, type StorageConfig } from '@audit-pipeline/storage'

/** The ClickHouse `verify` and `proof` read, and where that choice came from, for messages. */
export type TrailStorage = { config: StorageConfig; database: string; origin: string }

/**
 * ClickHouse as the services find it: CLICKHOUSE_URL (a server, with CLICKHOUSE_USERNAME and
 * CLICKHOUSE_PASSWORD), else CLICKHOUSE_EMBEDDED_PATH (an embedded data folder, which no running
 * process may hold), else the local stack's, from its state file; CLICKHOUSE_DATABASE names the
 * database (default: the stack's, or `audit`). Pure; throws naming what to set.
 */
export function resolveTrailStorage(
  env: Record<string, string | undefined>,
  stack: StackState | undefined,
  stateDir: string,
): TrailStorage {
  const settings = loadConnectionSettings(env)
  const databaseSet = env['CLICKHOUSE_DATABASE']?.trim() ? settings.clickhouse.database : undefined
  const { clickhouse } = settings
  if (clickhouse.kind === 'http') {
    const { url, username, password, database } = clickhouse
    return {
      config: {
        kind: 'http',
        url,
        database,
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password }),
      },
      database,
      origin: `CLICKHOUSE_URL (${url})`,
    }
  }
  if (clickhouse.dataPath !== undefined) {
    return {
      config: { kind: 'embedded', dataPath: clickhouse.dataPath, database: clickhouse.database },
      database: clickhouse.database,
      origin: `CLICKHOUSE_EMBEDDED_PATH (${clickhouse.dataPath})`,
    }
  }
  if (stack === undefined) {
    throw new Error(
      `no ClickHouse to read: set CLICKHOUSE_URL for a server, or CLICKHOUSE_EMBEDDED_PATH (and CLICKHOUSE_DATABASE) for an embedded data folder; no local stack has run in ${stateDir}`,
    )
  }
  const database = databaseSet ?? stack.clickhouse.database
  if (stack.clickhouse.kind === 'http') {
    return {
      config: { kind: 'http', url: stack.clickhouse.url, database },
      database,
      origin: `the local stack's ClickHouse (${stack.clickhouse.url})`,
    }
  }
  return {
    config: { kind: 'embedded', dataPath: stack.clickhouse.dataPath, database },
    database,
    origin: `the local stack's embedded ClickHouse (${stack.clickhouse.dataPath})`,
  }
}

/**
 * Opens `target` and checks ClickHouse answers. A data folder held by a running process (`npm
 * start` holds the local stack's) says how to read it anyway.
 */
export async function openTrailStorage(
  open: (config: StorageConfig) => Promise<Storage>,
  target: TrailStorage,
): Promise<Storage> {
  let storage: Storage
  try {
    storage = await open(target.config)
  } catch (error) {
    if (error instanceof StorageError && error.code === 'EMBEDDED_DATA_DIR_IN_USE') {
      throw new Error(
        `${error.message}. It is ${target.origin}: stop the process holding it (\`npm start\`, or a sink) and run this again, or read it through that ClickHouse server with CLICKHOUSE_URL`,
        { cause: error },
      )
    }
    throw error
  }
  try {
    await storage.ping()
  } catch (error) {
    await storage.close()
    throw error
  }
  return storage
}
