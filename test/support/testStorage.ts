import { join } from 'node:path'
import { inject } from 'vitest'
import { openStorage, type Storage } from '@audit-pipeline/storage'
import { uniqueName } from '@audit-pipeline/testing'

/**
 * A ClickHouse database of the calling test's own: on the run's ClickHouse server when there is
 * one, otherwise embedded. Embedded ClickHouse allows one data folder per process, so every test
 * in a worker process shares that worker's folder (inside the run's state folder, removed when
 * the run ends) and is kept apart by its database. Closing drops the database.
 */
export async function openTestStorage(): Promise<{
  storage: Storage
  database: string
  close(): Promise<void>
}> {
  const { clickhouseUrl } = inject('stack')
  const database = uniqueName('test')
  const storage = await openStorage(
    clickhouseUrl
      ? { kind: 'http', url: clickhouseUrl, database }
      : { kind: 'embedded', dataPath: join(inject('stackStateDir'), `chdb-worker-${process.pid}`), database },
  )
  await storage.ensureDatabase(database)
  return {
    storage,
    database,
    async close() {
      await storage.client.command({ query: `DROP DATABASE IF EXISTS ${database}` })
      await storage.close()
    },
  }
}
