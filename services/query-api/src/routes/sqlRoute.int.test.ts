import { describe, expect, it } from 'vitest'
import { defaultQueryCaps } from '../query/queryCaps.js'
import { allEvents, bearer, queryApiFixture, type TestKeyName } from '../testSupport/queryApiFixture.js'

type SqlAnswer = {
  columns: { name: string; type: string }[]
  rows: Record<string, unknown>[]
  row_count: number
}

async function sql(
  app: Awaited<ReturnType<typeof queryApiFixture>>['app'],
  key: TestKeyName,
  statement: string,
  params?: Record<string, string>,
) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/sql',
    headers: bearer(key),
    payload: { sql: statement, ...(params && { params }) },
  })
  return { status: response.statusCode, body: response.json<SqlAnswer & { message: string }>() }
}

describe('POST /v1/sql', () => {
  it('runs a SELECT for an auditor, with parameters, and says what the columns are', async () => {
    const { app } = await queryApiFixture()
    const answer = await sql(
      app,
      'auditor',
      'SELECT tenant, count() AS events FROM audit_events_deduplicated WHERE category = {category:String} GROUP BY tenant ORDER BY tenant;',
      { category: 'business' },
    )
    expect(answer.status, answer.body.message).toBe(200)
    expect(answer.body.columns).toEqual([
      { name: 'tenant', type: 'LowCardinality(String)' },
      { name: 'events', type: 'UInt64' },
    ])
    expect(answer.body.rows).toEqual([
      { tenant: 'acme', events: '1' },
      { tenant: 'witify', events: '3' },
    ])
  })

  it("gives a tenant-restricted key its tenants' rows only, from every audit table, however it asks", async () => {
    const { app, database } = await queryApiFixture()
    const tenantsSeen = async (statement: string) => {
      const answer = await sql(app, 'acmeAuditor', statement)
      expect(answer.status, `${statement}: ${answer.body.message}`).toBe(200)
      return answer.body.rows.map((row) => row['tenant'])
    }
    for (const table of [
      'audit_events',
      'audit_events_deduplicated',
      'audit_changes',
      'audit_actions_hourly',
    ]) {
      expect(await tenantsSeen(`SELECT DISTINCT tenant FROM ${table}`), table).toEqual(['acme'])
      expect(await tenantsSeen(`SELECT DISTINCT tenant FROM ${database}.${table}`), table).toEqual(['acme'])
    }
    expect(
      await tenantsSeen(
        "WITH t AS (SELECT tenant FROM audit_events WHERE tenant = 'witify' OR 1 = 1) SELECT DISTINCT tenant FROM t",
      ),
    ).toEqual(['acme'])
    expect(
      await tenantsSeen(
        'SELECT DISTINCT tenant FROM (SELECT tenant FROM audit_events UNION ALL SELECT tenant FROM audit_changes)',
      ),
    ).toEqual(['acme'])
    expect(
      await tenantsSeen(
        'SELECT DISTINCT a.tenant AS tenant FROM audit_events AS a JOIN audit_events AS b ON a.event_id = b.event_id',
      ),
    ).toEqual(['acme'])
    // An unrestricted auditor sees both.
    const all = await sql(app, 'auditor', 'SELECT DISTINCT tenant FROM audit_events ORDER BY tenant')
    expect(all.body.rows).toEqual([{ tenant: 'acme' }, { tenant: 'witify' }])
  })

  it('refuses writes, DDL, settings and multi-statement tricks, and leaves the data as it was', async () => {
    const { app, storage, database } = await queryApiFixture()
    const refused: [string, RegExp][] = [
      ["INSERT INTO audit_events (tenant) VALUES ('x')", /only SELECT statements/],
      ['DROP TABLE audit_events', /only SELECT statements/],
      ['ALTER TABLE audit_events DELETE WHERE 1', /only SELECT statements/],
      ['CREATE TABLE x (a UInt8) ENGINE = Memory', /only SELECT statements/],
      ['SYSTEM STOP MERGES audit_events', /only SELECT statements/],
      ['TRUNCATE TABLE audit_events', /only SELECT statements/],
      ['OPTIMIZE TABLE audit_events FINAL', /only SELECT statements/],
      ['SET readonly = 0', /only SELECT statements/],
      ['SELECT 1; DROP TABLE audit_events', /Multi-statements are not allowed/],
      ['SELECT 1; INSERT INTO audit_events (tenant) VALUES (1)', /Multi-statements are not allowed/],
      ["SELECT ';' AS a; DROP TABLE audit_events", /Multi-statements are not allowed/],
      ['SELECT 1 /* ; */ ; SELECT 2', /Multi-statements are not allowed/],
      ['', /empty|too small|>=1/i],
      ['  ;  ', /empty|Empty query/i],
      [
        'SELECT * FROM audit_events SETTINGS additional_table_filters = {}',
        /SETTINGS is not allowed|readonly mode/,
      ],
      ['SELECT * FROM audit_events SETTINGS readonly = 0', /SETTINGS is not allowed|readonly mode/],
      ["SELECT * FROM merge(currentDatabase(), '^audit_events$')", /table function merge\(\) is not allowed/],
      ["SELECT * FROM file('/etc/passwd', 'LineAsString')", /table function file\(\) is not allowed/],
      ["SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", /table function url\(\) is not allowed/],
      ['SELECT * FROM system.tables', /table system.tables is not readable here/],
      ['SELECT * FROM schema_migrations', /table schema_migrations is not readable here/],
      ['SELECT * FROM audit_changes_mv', /table audit_changes_mv is not readable here/],
      ["SELECT 1 INTO OUTFILE '/tmp/query-api-outfile.txt'", /INTO OUTFILE is not allowed/],
      ['SELECT * FROM other_database.audit_events', /not readable here/],
    ]
    for (const key of ['auditor', 'acmeAuditor'] as TestKeyName[]) {
      for (const [statement, reason] of refused) {
        const answer = await sql(app, key, statement)
        expect(answer.status, `${key}: ${statement}`).toBeGreaterThanOrEqual(400)
        expect(answer.status, `${key}: ${statement}`).toBeLessThan(500)
        expect(answer.body.message, `${key}: ${statement}`).toMatch(reason)
      }
    }
    const stored = await (
      await storage.client.query({
        query: `SELECT count() AS n FROM ${database}.audit_events`,
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>()
    expect(stored).toEqual([{ n: String(allEvents.length) }])
  })

  it('enforces the row limit', async () => {
    const { app } = await queryApiFixture({ limits: { sql: { maxResultRows: 5 } } })
    const tooMany = await sql(app, 'auditor', 'SELECT event_id FROM audit_events')
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.message).toMatch(/more than 5 rows \(QUERY_API_SQL_MAX_RESULT_ROWS\)/)
    const enough = await sql(app, 'auditor', 'SELECT event_id FROM audit_events LIMIT 5')
    expect(enough.body.message).toBeUndefined()
    expect(enough.body.row_count).toBe(5)
  })

  it('enforces the time limit', async () => {
    const { app } = await queryApiFixture({
      limits: { caps: { ...defaultQueryCaps, maxExecutionSeconds: 1, maxRowsToRead: 1e15 } },
    })
    // Hashing a hundred billion numbers: far past the 1 s limit.
    const slow = await sql(app, 'auditor', 'SELECT sum(cityHash64(number)) FROM numbers(100000000000)')
    expect(slow.status).toBe(400)
    expect(slow.body.message).toMatch(/it needed more than 1 s \(QUERY_API_MAX_EXECUTION_SECONDS\)/)
  })

  it('is for auditors only: an analyst gets 403 and is told where to go', async () => {
    const { app, records } = await queryApiFixture()
    for (const key of ['analyst', 'acmeAnalyst'] as TestKeyName[]) {
      const answer = await sql(app, key, 'SELECT count() FROM audit_events')
      expect(answer.status).toBe(403)
      expect(answer.body.message).toContain('the SQL endpoint is for auditors')
    }
    expect(records.map((record) => [record.outcome, record.status, record.filters['sql']])).toEqual([
      ['denied', 403, 'SELECT count() FROM audit_events'],
      ['denied', 403, 'SELECT count() FROM audit_events'],
    ])
  })
})
