import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory for embedded ClickHouse data, and how to remove it. */
export async function temporaryDataDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'audit-storage-test-'))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}
