import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openStorage, StorageError, type Storage } from './index.js'
import { uniqueName } from '@audit-pipeline/testing'
import { temporaryDataDir } from './testing/testResources.js'

// What only embedded ClickHouse has to get right: one engine per process, bound to one data
// directory, that another process cannot share. Every test closes what it opens, so the
// process-wide directory is free again for the next one.

async function openEmbedded(dataPath: string, database?: string): Promise<Storage> {
  const storage = await openStorage({ kind: 'embedded', dataPath, database })
  onTestFinished(() => storage.close())
  return storage
}

async function newDataDir(): Promise<string> {
  const dataDir = await temporaryDataDir()
  // Registered first so it runs last, after the storages on it are closed.
  onTestFinished(() => dataDir.remove())
  return dataDir.path
}

async function scalar(storage: Storage, query: string): Promise<unknown> {
  const rows = await (
    await storage.client.query({ query, format: 'JSONEachRow' })
  ).json<Record<string, unknown>>()
  return Object.values(rows[0] ?? {})[0]
}

describe('embedded storage', () => {
  it('lets several storages share the data directory, each in its own database', async () => {
    const dataPath = await newDataDir()
    const [first, second] = [uniqueName('first'), uniqueName('second')]
    const a = await openEmbedded(dataPath, first)
    const b = await openEmbedded(dataPath, second)
    await a.ensureDatabase(first)
    await b.ensureDatabase(second)

    for (const [storage, marker] of [
      [a, 'from a'],
      [b, 'from b'],
    ] as const) {
      await storage.client.command({
        query: 'CREATE TABLE notes (text String) ENGINE = MergeTree ORDER BY text',
      })
      await storage.client.insert({ table: 'notes', values: [{ text: marker }], format: 'JSONEachRow' })
    }
    expect(await scalar(a, 'SELECT text FROM notes')).toBe('from a')
    expect(await scalar(b, 'SELECT text FROM notes')).toBe('from b')
    expect(await scalar(a, `SELECT text FROM ${second}.notes`)).toBe('from b')
  })

  it('refuses a second data directory in the same process, naming both', async () => {
    const [held, other] = [await newDataDir(), await newDataDir()]
    await openEmbedded(held)
    const refusal = openStorage({ kind: 'embedded', dataPath: other })
    await expect(refusal).rejects.toBeInstanceOf(StorageError)
    await expect(refusal).rejects.toMatchObject({ code: 'EMBEDDED_DATA_DIR_CONFLICT', retriable: false })
    await expect(refusal).rejects.toThrow(`already has data directory ${held} open in this process`)
  })

  it('releases the directory on close: it reopens with its data, and another one opens after', async () => {
    const [dataPath, next] = [await newDataDir(), await newDataDir()]
    const database = uniqueName('reopened')
    const first = await openEmbedded(dataPath, database)
    await first.ensureDatabase(database)
    await first.client.command({ query: 'CREATE TABLE kept (n UInt8) ENGINE = MergeTree ORDER BY n' })
    await first.client.insert({ table: 'kept', values: [{ n: 7 }], format: 'JSONEachRow' })
    await first.close()
    await first.close() // idempotent

    const reopened = await openEmbedded(dataPath, database)
    expect(await scalar(reopened, 'SELECT n FROM kept')).toBe(7)
    await reopened.close()

    const elsewhere = await openEmbedded(next)
    // count() is UInt64, which comes back as a string on both transports.
    expect(await scalar(elsewhere, `SELECT count() FROM system.databases WHERE name = '${database}'`)).toBe(
      '0',
    )
  })

  it('runs in UTC whatever the host time zone', async () => {
    const storage = await openEmbedded(await newDataDir())
    expect(await scalar(storage, 'SELECT timezone()')).toBe('UTC')
    expect(await scalar(storage, "SELECT toUnixTimestamp(toDateTime('2024-01-01 00:00:00'))")).toBe(
      1704067200,
    )
  })

  it('refuses a Date nested in an array parameter, which ClickHouse would misread', async () => {
    const storage = await openEmbedded(await newDataDir())
    const query = storage.client.query({
      query: "SELECT {ats:Array(DateTime64(3, 'UTC'))} AS ats",
      query_params: { ats: [new Date('2024-01-02T03:04:05.000Z')] },
    })
    await expect(query).rejects.toMatchObject({ code: 'UNSUPPORTED_QUERY_PARAMETER' })
  })

  it('says which process holds a data directory, and opens it once that process is gone', async () => {
    const dataPath = await newDataDir()
    const fixture = fileURLToPath(new URL('./testing/holdDataDir.fixture.js', import.meta.url))
    const holder = spawn(process.execPath, [fixture, dataPath], { stdio: ['pipe', 'pipe', 'inherit'] })
    const exited = once(holder, 'exit')
    onTestFinished(async () => {
      if (holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL')
      await exited
    })
    const [line] = (await once(createInterface({ input: holder.stdout }), 'line')) as [string]
    expect(line).toBe('ready')

    const refusal = openStorage({ kind: 'embedded', dataPath })
    await expect(refusal).rejects.toMatchObject({ code: 'EMBEDDED_DATA_DIR_IN_USE', retriable: false })
    await expect(refusal).rejects.toThrow(
      `embedded ClickHouse data directory ${dataPath} is in use by another process (pid ${holder.pid}); ` +
        'set CLICKHOUSE_URL to share a ClickHouse server between processes',
    )

    holder.stdin.end() // the holder closes its connection and exits
    await exited
    const storage = await openEmbedded(dataPath)
    await storage.ping()
  })
})
