import { openStorage } from '@audit-pipeline/storage'
import type { StackState } from '@audit-pipeline/stack-state'

/**
 * Opens the embedded ClickHouse data folder once, so a stack that reports ready has a usable
 * ClickHouse too (and a folder another process holds is reported now, not at the first insert).
 */
export async function checkEmbeddedClickHouse(dataPath: string, database: string): Promise<void> {
  const storage = await openStorage({ kind: 'embedded', dataPath, database })
  try {
    await storage.ping()
    await storage.ensureDatabase(database)
  } finally {
    await storage.close()
  }
}

/** Checks the stack's ClickHouse when embedded (a server is checked by the services that use it). */
export async function checkStackClickHouse(state: StackState): Promise<void> {
  const { clickhouse } = state
  if (clickhouse.kind === 'embedded') await checkEmbeddedClickHouse(clickhouse.dataPath, clickhouse.database)
}
