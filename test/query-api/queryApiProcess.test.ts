import { execFile, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { defaultRetentionPolicy, runMigrations } from '@audit-pipeline/clickhouse-schema'
import { openStorage, type StorageConfig } from '@audit-pipeline/storage'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import {
  allEvents,
  insertEvents,
  testKeys,
} from '../../services/query-api/src/testSupport/queryApiFixture.js'
import { createAccessTopic, queryApiProcessEnv, writeTestKeysFile } from '../support/queryApiProcess.js'
import { queryApiUserStorage } from '../support/serverAccess.js'
import { buildPackage, startServiceProcess } from '../support/serviceProcess.js'

const stack = inject('stack')
const root = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)

beforeAll(() => {
  buildPackage('@audit-pipeline/query-api')
  buildPackage('@audit-pipeline/cli')
}, 300_000)

/** Runs the built CLI; resolves with its exit code and output whatever the code. */
async function cli(args: string[], key: keyof typeof testKeys, apiUrl: string) {
  const { id, secret } = testKeys[key]
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'packages/cli/bin/audit-pipeline.js'), ...args],
      {
        cwd: root,
        env: { ...process.env, AUDIT_API_URL: apiUrl, AUDIT_API_KEY: `${id}.${secret}` },
      },
    )
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

/**
 * The query API as it ships (`node services/query-api/bin/audit-query-api.js`), over a database
 * the sink's migrations made, with the CLI's query commands talking to it, and SIGTERM closing it.
 */
describe('the query API process and the CLI over it', () => {
  it('serves the audit data to the CLI, then stops cleanly on SIGTERM', { timeout: 240_000 }, async () => {
    const accessTopic = await createAccessTopic(stack, 'query_api_access')

    const database = stack.clickhouseUrl ? uniqueName('query_api') : 'audit'
    const dataPath = mkdtempSync(join(tmpdir(), 'query-api-chdb-'))
    const storageConfig: StorageConfig = stack.clickhouseUrl
      ? { kind: 'http', url: stack.clickhouseUrl, database }
      : { kind: 'embedded', dataPath, database }
    // Made here, then closed: embedded ClickHouse lets one process at a time open the folder.
    const storage = await openStorage(storageConfig)
    await storage.ensureDatabase(database)
    await runMigrations(storage, { database, retention: defaultRetentionPolicy })
    await insertEvents(storage, allEvents)
    // On a server the API runs as its own user, with the access `clickhouse access apply` makes.
    const serverUser = stack.clickhouseUrl
      ? await queryApiUserStorage(storage, stack.clickhouseUrl, database, ['acme', 'witify'])
      : undefined
    onTestFinished(async () => {
      await serverUser?.close()
      await storage.close()
    })
    if (!serverUser) await storage.close()

    const keysFile = writeTestKeysFile(Object.values(testKeys))
    const api = startServiceProcess(
      'services/query-api/bin/audit-query-api.js',
      queryApiProcessEnv({ stack, database, dataPath, serverUser, keysFile, accessTopic }),
    )
    const ready = await api.waitForLog('ready')
    const apiUrl = ready['api'] as string
    expect((await fetch(ready['ready'] as string)).status).toBe(200)
    expect((await fetch(`${apiUrl}/openapi.json`)).status).toBe(200)

    const { id: auditorId, secret: auditorSecret } = testKeys.auditor
    const exported = await fetch(`${apiUrl}/v1/export?format=ndjson`, {
      headers: { authorization: `Bearer ${auditorId}.${auditorSecret}` },
    })
    expect(exported.headers.get('content-type')).toContain('application/x-ndjson')
    expect((await exported.text()).trimEnd().split('\n')).toHaveLength(allEvents.length)

    const search = await cli(
      ['query', 'search', '--actor', 'u-7', '--format', 'json', '--limit', '3'],
      'auditor',
      apiUrl,
    )
    expect(search.code, search.stderr).toBe(0)
    expect(
      search.stdout
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { actor: { id: string } }).actor.id),
    ).toEqual(['u-7', 'u-7', 'u-7'])
    expect(search.stderr).toContain('3 event(s); more match')

    const timeline = await cli(
      ['query', 'timeline', 'ticket', '9548-B1', '--tenant', 'witify'],
      'auditor',
      apiUrl,
    )
    expect(timeline.code, timeline.stderr).toBe(0)
    expect(timeline.stdout).toMatch(/^OCCURRED AT +TENANT +ACTOR/)
    expect(timeline.stdout).toContain('priority: "Urgent" → "Normal"')
    expect(timeline.stdout.trimEnd().split('\n')).toHaveLength(4)

    // The reference's question: the ticket on 15 March 2024 at noon.
    const state = await cli(
      ['query', 'state', 'ticket', '9548-B1', '--tenant', 'witify', '--at', '2024-03-15T12:00Z'],
      'auditor',
      apiUrl,
    )
    expect(state.code, state.stderr).toBe(0)
    expect(state.stdout).toMatch(/^FIELD +VALUE +CHANGED AT +BY/)
    expect(state.stdout).toMatch(/priority +"Urgent" +2024-03-15T11:17:00.000Z +u-1002 \(Jack Peltrow\)/)
    expect(state.stdout.trimEnd().split('\n')).toHaveLength(4)
    expect(state.stderr).toContain(
      'ticket 9548-B1 (tenant witify) as of 2024-03-15T12:00:00.000Z: 3 field(s) from 2 event(s)',
    )
    const noZone = await cli(
      ['query', 'state', 'ticket', '9548-B1', '--at', '2024-03-15T12:00'],
      'auditor',
      apiUrl,
    )
    expect(noZone.code).not.toBe(0)
    expect(noZone.stderr).toContain('--at must be an ISO-8601 date')

    const csv = await cli(
      ['query', 'search', '--object-type', 'customer', '--format', 'csv'],
      'analyst',
      apiUrl,
    )
    expect(csv.code, csv.stderr).toBe(0)
    expect(csv.stdout).toContain('[redacted]')
    expect(csv.stdout).not.toContain('rita@')

    const sql = await cli(
      [
        'sql',
        'SELECT tenant, count() AS n FROM audit_events_deduplicated GROUP BY tenant ORDER BY tenant',
        '--format',
        'csv',
      ],
      'acmeAuditor',
      apiUrl,
    )
    expect(sql.code, sql.stderr).toBe(0)
    expect(sql.stdout).toBe('tenant,n\nacme,8\n')
    const write = await cli(['sql', 'DROP TABLE audit_events'], 'auditor', apiUrl)
    expect(write.code).toBe(2)
    expect(write.stderr).toContain('query API answered 400: only SELECT statements are accepted')
    const analystSql = await cli(['sql', 'SELECT 1'], 'analyst', apiUrl)
    expect(analystSql.code).toBe(2)
    expect(analystSql.stderr).toContain('the SQL endpoint is for auditors')

    const alerts = await cli(['alerts', '--tenant', 'acme'], 'acmeAnalyst', apiUrl)
    expect(alerts.code, alerts.stderr).toBe(0)
    expect(alerts.stdout).toContain('failed-sign-ins')
    const otherTenant = await cli(['alerts', '--tenant', 'witify'], 'acmeAnalyst', apiUrl)
    expect(otherTenant.stderr).toContain(
      "query API answered 403: key acme-analyst may not read tenant 'witify'",
    )

    // tail: the look-back reaches back to the example's events (2024), so it shows them, then
    // Ctrl-C stops it.
    const { id, secret } = testKeys.acmeAnalyst
    const lookbackMs = String(Date.now() - Date.parse('2024-01-01T00:00:00Z'))
    const tail = spawn(
      process.execPath,
      [
        join(root, 'packages/cli/bin/audit-pipeline.js'),
        'tail',
        '--action',
        'session.sign_in',
        '--format',
        'json',
        '--interval-ms',
        '200',
        '--lookback-ms',
        lookbackMs,
      ],
      { cwd: root, env: { ...process.env, AUDIT_API_URL: apiUrl, AUDIT_API_KEY: `${id}.${secret}` } },
    )
    onTestFinished(() => void tail.kill('SIGKILL'))
    const tailed: string[] = []
    tail.stdout
      .setEncoding('utf8')
      .on('data', (chunk: string) => tailed.push(...chunk.split('\n').filter(Boolean)))
    const tailExit = new Promise<number | null>((resolve) => tail.once('exit', (code) => resolve(code)))
    await waitFor(() => tailed.length >= 6, {
      timeoutMs: 30_000,
      description: 'tail to print the six sign-ins',
    })
    tail.kill('SIGINT')
    expect(await tailExit).toBe(0)
    expect(new Set(tailed.map((line) => (JSON.parse(line) as { event_id: string }).event_id)).size).toBe(6)

    api.child.kill('SIGTERM')
    expect(await api.exited).toBe(0)
  })
})
