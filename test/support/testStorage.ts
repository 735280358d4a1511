import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStorage, type Storage } from '@audit-pipeline/storage'
import { uniqueName } from '@audit-pipeline/testing'
import type { StackEndpoints } from './stackEndpoints.js'

/**
 * A ClickHouse database of the calling test's own: on the run's ClickHouse server when there is
 * one, otherwise embedded in this test worker (embedded ClickHouse belongs to one process, so each
 * worker gets its own data folder). Closing drops the database and the folder.
 */
export async function openTestStorage(stack: StackEndpoints): Promise<{ storage: Storage; database: string; close(): Promise<void> }> {
  const database = uniqueName('test')
  const dataPath = stack.clickhouseUrl ? undefined : mkdtempSync(join(tmpdir(), 'audit-test-chdb-'))
  const storage = await openStorage(
    stack.clickhouseUrl
      ? { kind: 'http', url: stack.clickhouseUrl, database }
      : { kind: 'embedded', dataPath: dataPath!, database },
  )
  await storage.ensureDatabase(database)
  return {
    storage,
    database,
    async close() {
      await storage.client.command({ query: `DROP DATABASE IF EXISTS ${database}` })
      await storage.close()
      if (dataPath) rmSync(dataPath, { recursive: true, force: true })
    },
  }
}
