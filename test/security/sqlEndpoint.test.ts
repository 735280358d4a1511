import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { defaultRetentionPolicy, runMigrations } from '@audit-pipeline/clickhouse-schema'
import { openStorage, type Storage, type StorageConfig } from '@audit-pipeline/storage'
import { uniqueName } from '@audit-pipeline/testing'
import {
  allEvents,
  insertEvents,
  testKeys,
  ticketEvents,
} from '../../services/query-api/src/testSupport/queryApiFixture.js'
import { createAccessTopic, queryApiProcessEnv, writeTestKeysFile } from '../support/queryApiProcess.js'
import { queryApiUserStorage } from '../support/serverAccess.js'
import { buildPackage, startServiceProcess } from '../support/serviceProcess.js'
import { attackCategories, sqlAttacks } from './sqlAttackCorpus.js'

const stack = inject('stack')
/** The bound: the process that also runs the sink stays under it through the bombs. */
const maxPeakRssBytes = 1.5 * 1024 ** 3

beforeAll(() => buildPackage('@audit-pipeline/query-api'), 300_000)

/** Peak resident memory of a process so far (Linux: VmHWM), bytes. */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kibibytes = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kibibytes === undefined) throw new Error(`no VmHWM in /proc/${pid}/status`)
  return Number(kibibytes) * 1024
}

async function tableNames(storage: Storage, database: string): Promise<string[]> {
  const result = await storage.client.query({
    query: 'SELECT name FROM system.tables WHERE database = {database:String} ORDER BY name',
    query_params: { database },
    format: 'JSONEachRow',
  })
  return (await result.json<{ name: string }>()).map((row) => row.name)
}

/**
 * The attack corpus against the query API as it ships, with a key restricted to tenant acme
 * (role auditor, so the SQL endpoint is open to it). The API's host holds a canary file with a
 * secret, and a second database holds tenant witify's events: nothing of either may come back,
 * no file may be written, no table changed, and the process must stay under its memory bound.
 */
describe('POST /v1/sql under attack, with a tenant-restricted auditor key', () => {
  it(
    'refuses every attack or answers its own tenant only, leaks and writes nothing, stays under 1.5 GiB',
    { timeout: 600_000 },
    async () => {
      const accessTopic = await createAccessTopic(stack, 'sql_attacks_access')

      const hostDir = mkdtempSync(join(tmpdir(), 'sql-attacks-host-'))
      const canarySecret = `canary-${uniqueName('secret')}`
      const canary = join(hostDir, 'canary.txt')
      writeFileSync(canary, `${canarySecret}\n`)
      const outfile = join(hostDir, 'stolen.csv')

      const database = uniqueName('sql_attacks')
      const other = uniqueName('sql_attacks_other')
      const dataPath = mkdtempSync(join(tmpdir(), 'sql-attacks-chdb-'))
      const storageConfig = (db: string): StorageConfig =>
        stack.clickhouseUrl
          ? { kind: 'http', url: stack.clickhouseUrl, database: db }
          : { kind: 'embedded', dataPath, database: db }
      // Made here, then closed: embedded ClickHouse lets one process at a time open the folder.
      for (const [db, events] of [
        [database, allEvents],
        [other, ticketEvents],
      ] as const) {
        const storage = await openStorage(storageConfig(db))
        await storage.ensureDatabase(db)
        await runMigrations(storage, { database: db, retention: defaultRetentionPolicy })
        await insertEvents(storage, events)
        await storage.close()
      }
      const before = await (async () => {
        const storage = await openStorage(storageConfig(database))
        try {
          return await tableNames(storage, database)
        } finally {
          await storage.close()
        }
      })()

      // On a server the API runs as its own user, with the server's row policies and reader
      // profile applied as `audit-pipeline clickhouse access apply` makes them.
      const serverUser = stack.clickhouseUrl
        ? await (async () => {
            const admin = await openStorage(storageConfig(database))
            onTestFinished(() => admin.close())
            const user = await queryApiUserStorage(admin, stack.clickhouseUrl!, database, ['acme', 'witify'])
            onTestFinished(() => user.close())
            return user
          })()
        : undefined

      const keysFile = writeTestKeysFile([testKeys.acmeAuditor, testKeys.auditor])
      const api = startServiceProcess(
        'services/query-api/bin/audit-query-api.js',
        {
          ...queryApiProcessEnv({ stack, database, dataPath, serverUser, keysFile, accessTopic }),
          // The corpus is one client's burst: the per-key limit is not what is under test here.
          QUERY_API_RATE_LIMIT_PER_MINUTE: '100000',
        },
        [],
        hostDir,
      )
      const ready = await api.waitForLog('ready', 120_000)
      // The baseline: the process as it stands ready, before any query.
      const readyPeakRss = peakRssBytes(api.pid)
      const apiUrl = ready['api'] as string
      const sql = async (key: keyof typeof testKeys, statement: string, params?: Record<string, string>) => {
        const response = await fetch(`${apiUrl}/v1/sql`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${testKeys[key].id}.${testKeys[key].secret}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ sql: statement, ...(params && { params }) }),
        })
        return { status: response.status, text: await response.text() }
      }

      // What acme's key must never see: witify's events, stored in both databases.
      const foreignIds = ticketEvents.map((event) => event.event_id)
      const attacks = sqlAttacks({ canary, outfile, other })
      expect(attacks.length).toBeGreaterThanOrEqual(60)
      expect(new Set(attacks.map((attack) => attack.category))).toEqual(new Set(attackCategories))

      const outcomes: { category: string; sql: string; status: number }[] = []
      const bombs = attacks.filter((attack) => attack.category === 'resource exhaustion')
      // The bombs arrive together, as an attacker would send them, and then one by one.
      const concurrent = await Promise.all(
        bombs.map((attack) => sql('acmeAuditor', attack.sql, attack.params)),
      )
      for (const [index, answer] of concurrent.entries()) {
        outcomes.push({ ...bombs[index]!, status: answer.status })
      }
      for (const attack of attacks) {
        const answer = await sql('acmeAuditor', attack.sql, attack.params)
        outcomes.push({ ...attack, status: answer.status })
        const label = `${attack.category}: ${attack.sql.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 300)}`
        expect([200, 400, 403, 413, 503], label).toContain(answer.status)
        expect(answer.text, label).not.toContain(canarySecret)
        for (const id of foreignIds) expect(answer.text, label).not.toContain(id)
        if (answer.status === 200) {
          const body = JSON.parse(answer.text) as { rows: Record<string, unknown>[] }
          for (const row of body.rows) {
            if ('tenant' in row) expect(row['tenant'], label).toBe('acme')
          }
        }
      }
      const refused = outcomes.filter((outcome) => outcome.status >= 400).length
      console.info(
        `sql attacks: ${attacks.length} statements in ${attackCategories.length} categories (+${bombs.length} bombs at once); ` +
          `${refused} refusals, ${outcomes.length - refused} answers of tenant acme only; ` +
          `peak RSS ${(peakRssBytes(api.pid) / 1024 ** 2).toFixed(0)} MiB (ready, before any query: ${(readyPeakRss / 1024 ** 2).toFixed(0)} MiB)`,
      )

      expect(peakRssBytes(api.pid)).toBeLessThan(maxPeakRssBytes)
      expect(existsSync(outfile)).toBe(false)
      expect(readdirSync(hostDir)).toEqual(['canary.txt'])
      // Still serving, and the data as it was, for a key of every tenant.
      expect((await fetch(ready['ready'] as string)).status).toBe(200)
      const count = await sql('auditor', 'SELECT count() AS n FROM audit_events')
      expect(JSON.parse(count.text)).toMatchObject({ rows: [{ n: String(allEvents.length) }] })

      api.child.kill('SIGTERM')
      expect(await api.exited).toBe(0)
      const storage = await openStorage(storageConfig(database))
      try {
        expect(await tableNames(storage, database)).toEqual(before)
      } finally {
        await storage.close()
      }
    },
  )
})
