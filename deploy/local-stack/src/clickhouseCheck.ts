import { openStorage } from '@audit-pipeline/storage'

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
