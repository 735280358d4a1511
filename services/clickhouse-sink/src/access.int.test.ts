import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditTables,
  defaultRetentionPolicy,
  eventRow,
  integrityTables,
  migrations,
  runMigrations,
  schemaMigrationsTable,
} from '@audit-pipeline/clickhouse-schema'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import {
  accessNames,
  accessStatements,
  accessTeardownStatements,
  analystFieldColumns,
  analystStatements,
  ClickHouseError,
  defaultReaderLimits,
  eventRowTables,
  openStorage,
  readableAuditTables,
  readerRoles,
  sessionSettings,
  sinkWrittenTables,
  type AccessStatement,
  type Storage,
} from '@audit-pipeline/storage'
import { uniqueName } from '@audit-pipeline/testing'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { readStoredRows } from './delivery/storedRows.js'

const topic = 'audit.normalized'
const tenants = ['acme', 'globex.eu'] as const
const salt = () => randomBytes(32).toString('hex')

function event(tenant: string, n: number): AuditEvent {
  const draft = parseEventJson({
    event_id: `0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5b${String(n).padStart(2, '0')}`,
    occurred_at: `2024-03-14T10:0${n}:00Z`,
    tenant,
    source: { service: 'helpdesk-api' },
    actor: { type: 'user', id: `u-${n}` },
    action: { kind: 'update', name: 'ticket.update' },
    category: 'business',
    object: { type: 'ticket', id: `T-${n}` },
    changes: [{ path: 'status', old_value: 'open', new_value: 'closed' }],
  })
  return { ...draft, recorded_at: draft.occurred_at + 100 }
}

/** The error ClickHouse answered `attempt` with (a test fails if it answered anything else). */
async function refusal(attempt: Promise<unknown>): Promise<ClickHouseError> {
  try {
    await attempt
  } catch (error) {
    if (error instanceof ClickHouseError) return error
    throw error
  }
  throw new Error('ClickHouse accepted what it should have refused')
}

async function runAll(storage: Storage, statements: readonly AccessStatement[]): Promise<void> {
  for (const statement of statements) await storage.client.command({ query: statement.sql })
}

// Pure checks, here beside the server test they protect: a migration that needs a privilege the
// sink writer role lacks would fail only on a server with access control applied.
describe("the sink writer's grants", () => {
  it('name the tables the schema has: the readable ones, and the ones the sink writes', () => {
    expect([...readableAuditTables].sort()).toEqual(Object.values(auditTables).sort())
    expect([...sinkWrittenTables].sort()).toEqual(
      [
        auditTables.events,
        auditTables.changes,
        auditTables.actionsHourly,
        auditTables.recordLatest,
        // The sink appends to its chain and signs checkpoints (packages/clickhouse-schema).
        integrityTables.chain,
        integrityTables.checkpoints,
        schemaMigrationsTable,
      ].sort(),
    )
  })

  it('cover every statement of every migration: CREATE TABLE, MATERIALIZED VIEW or VIEW in the database', () => {
    const granted = /^CREATE (TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS `audit`\./
    for (const migration of migrations) {
      for (const statement of migration.statements({
        database: 'audit',
        retention: defaultRetentionPolicy,
      })) {
        expect(
          statement,
          `migration ${migration.version} needs a privilege the sink writer role lacks: add it in packages/storage/src/access/accessStatements.ts`,
        ).toMatch(granted)
      }
    }
  })
})

describe("the analysts' hidden columns", () => {
  it('are columns the schema has, on exactly the readable tables that have them', async () => {
    const opened = await openTestStorage()
    try {
      await runMigrations(opened.storage, { database: opened.database, retention: defaultRetentionPolicy })
      const result = await opened.storage.client.query({
        query:
          'SELECT table, groupArray(name) AS columns FROM system.columns WHERE database = {db:String} GROUP BY table',
        query_params: { db: opened.database },
        format: 'JSONEachRow',
      })
      const columnsOf = new Map(
        (await result.json<{ table: string; columns: string[] }>()).map((row) => [row.table, row.columns]),
      )
      const hideable = Object.values(analystFieldColumns).flat()
      const tablesWithHideable = readableAuditTables.filter((table) =>
        (columnsOf.get(table) ?? []).some((column) => (hideable as string[]).includes(column)),
      )
      expect(tablesWithHideable.sort()).toEqual([...eventRowTables].sort())
      for (const table of eventRowTables)
        expect(columnsOf.get(table)).toEqual(expect.arrayContaining(hideable))
    } finally {
      await opened.close()
    }
  })
})

// The access statements' syntax on whichever ClickHouse the run has (embedded chDB parses them
// too): formatQuery parses and prints a statement without running it.
describe('the access statements', () => {
  it('parse on this ClickHouse', async () => {
    const opened = await openTestStorage()
    try {
      const statements = [
        ...accessStatements({
          database: 'audit',
          tenants: [...tenants, "o'brien\\co"],
          sinkPassword: { password: 's', salt: salt() },
          queryApiPassword: { password: 'q', salt: salt() },
        }),
        ...analystStatements({
          database: 'audit',
          user: 'analyst_x',
          tenants: ['acme'],
          password: { password: 'a', salt: salt() },
        }),
        ...analystStatements({ database: 'audit', user: 'analyst_y', tenants: 'all', see: ['ip'] }),
        ...accessTeardownStatements('audit', [...tenants]),
      ]
      for (const { sql } of statements) {
        const result = await opened.storage.client.query({
          query: 'SELECT formatQuery({sql:String}) AS formatted',
          query_params: { sql },
          format: 'JSONEachRow',
        })
        expect((await result.json<{ formatted: string }>())[0]?.formatted, sql).toBeTruthy()
      }
    } finally {
      await opened.close()
    }
  })
})

/**
 * Access control exists only on a server. The administrator is CLICKHOUSE_ADMIN_USERNAME /
 * CLICKHOUSE_ADMIN_PASSWORD when set, else the URL's own user (`default`): it must be allowed to
 * manage access. Every name is the random database's, so runs never meet; all of it is dropped.
 */
const serverUrl = process.env['CLICKHOUSE_URL']

describe.skipIf(!serverUrl)('least privilege on a ClickHouse server', () => {
  const url = serverUrl ?? ''
  const database = uniqueName('access')
  const names = accessNames(database)
  const sinkPassword = randomBytes(12).toString('hex')
  const queryApiPassword = randomBytes(12).toString('hex')
  const analystPassword = randomBytes(12).toString('hex')
  const analyst = `${database}_analyst_acme`
  const plan = () =>
    accessStatements({
      database,
      tenants: [...tenants],
      sinkPassword: { password: sinkPassword, salt: salt() },
      queryApiPassword: { password: queryApiPassword, salt: salt() },
    })
  const opened: Storage[] = []
  const open = async (username: string | undefined, password: string | undefined) => {
    const storage = await openStorage({
      kind: 'http',
      url,
      database,
      ...(username !== undefined && { username, password: password ?? '' }),
    })
    opened.push(storage)
    return storage
  }
  let admin: Storage | undefined
  let sink: Storage
  let api: Storage

  // Registered before anything is made, so that a failure halfway still removes what was made.
  afterAll(async () => {
    for (const storage of opened) await storage.close()
    if (admin === undefined) return
    try {
      // The database first: its views run as the sink user.
      await admin.client.command({ query: `DROP DATABASE IF EXISTS ${database}` })
      await runAll(admin, accessTeardownStatements(database, [...tenants]))
      await admin.client.command({ query: `DROP USER IF EXISTS ${analyst}` })
    } finally {
      await admin.close()
    }
  })

  const administrator = () => {
    if (admin === undefined) throw new Error('the administrator never connected')
    return admin
  }

  beforeAll(async () => {
    admin = await openStorage({
      kind: 'http',
      url,
      ...(process.env['CLICKHOUSE_ADMIN_USERNAME'] && {
        username: process.env['CLICKHOUSE_ADMIN_USERNAME'],
        password: process.env['CLICKHOUSE_ADMIN_PASSWORD'] ?? '',
      }),
    })
    // Twice: the second run must change nothing and fail on nothing.
    await runAll(administrator(), plan())
    await runAll(administrator(), plan())
    await runAll(
      administrator(),
      analystStatements({
        database,
        user: analyst,
        tenants: ['acme'],
        password: { password: analystPassword, salt: salt() },
      }),
    )

    // The sink does everything it does as its own user: the database, the schema, the rows.
    sink = await open(names.sinkUser, sinkPassword)
    await runMigrations(sink, { database, retention: defaultRetentionPolicy })
    await sink.client.insert({
      table: `${database}.${auditTables.events}`,
      values: [event('acme', 1), event('acme', 2), event('globex.eu', 3)].map((e, index) =>
        eventRow(e, { topic, partition: 0, offset: String(index) }),
      ),
      format: 'JSONEachRow',
    })
    // Events of records kept at temporal level 1 go to the latest-state table instead.
    await sink.client.insert({
      table: `${database}.${auditTables.recordLatest}`,
      values: [event('acme', 4), event('globex.eu', 5)].map((e, index) =>
        eventRow(e, { topic, partition: 1, offset: String(index) }),
      ),
      format: 'JSONEachRow',
    })
    api = await open(names.queryApiUser, queryApiPassword)
  })

  /** A query of the query API for a key of `keyTenants` (what serverQueryIdentity sends). */
  const asKey = async <Row>(
    keyTenants: readonly string[] | 'all',
    query: string,
    settings: Record<string, unknown> = {},
  ): Promise<Row[]> => {
    const result = await api.client.query({
      query,
      format: 'JSONEachRow',
      role: readerRoles(names, keyTenants),
      clickhouse_settings: {
        quota_key: `key-${keyTenants === 'all' ? 'all' : keyTenants.join('-')}`,
        ...settings,
      },
    })
    return result.json<Row>()
  }
  /** The same, for a statement that answers nothing (SET, INSERT, DDL). */
  const commandAsKey = (keyTenants: readonly string[] | 'all', query: string) =>
    api.client.command({
      query,
      role: readerRoles(names, keyTenants),
      clickhouse_settings: { quota_key: 'key-command' },
    })
  const tenantsSeen = async (keyTenants: readonly string[] | 'all', query: string) =>
    (await asKey<{ tenant: string }>(keyTenants, query)).map((row) => row.tenant).sort()

  it('let the sink run its migrations, write both tenants and look up its offsets, and the administrator see all', async () => {
    const counts = await (
      await administrator().client.query({
        query: `SELECT tenant, count() AS n FROM ${database}.audit_events GROUP BY tenant ORDER BY tenant`,
        format: 'JSONEachRow',
      })
    ).json<{ tenant: string; n: string }>()
    expect(counts).toEqual([
      { tenant: 'acme', n: '2' },
      { tenant: 'globex.eu', n: '1' },
    ])
    // Its views ran as their definer, the sink user, which sees every row.
    for (const table of ['audit_changes', 'audit_actions_hourly']) {
      const result = await administrator().client.query({
        query: `SELECT DISTINCT tenant FROM ${database}.${table} ORDER BY tenant`,
        format: 'JSONEachRow',
      })
      expect(await result.json()).toEqual([{ tenant: 'acme' }, { tenant: 'globex.eu' }])
    }
    const stored = await readStoredRows(sink, `${database}.${auditTables.events}`, {
      topic,
      partition: 0,
      fromOffset: 1n,
      limit: 10,
    })
    expect(stored.map((row) => row.offset)).toEqual([1n, 2n])
  })

  it("shows a key restricted to one tenant only that tenant's rows, however the SQL reaches them", async () => {
    for (const table of [
      'audit_events',
      'audit_events_deduplicated',
      'audit_changes',
      'audit_actions_hourly',
      'audit_record_latest',
    ]) {
      expect(await tenantsSeen(['acme'], `SELECT DISTINCT tenant FROM ${table}`)).toEqual(['acme'])
    }
    const queries = [
      `SELECT DISTINCT tenant FROM merge('${database}', '^audit_(events|changes)$')`,
      `SELECT tenant FROM (SELECT tenant FROM audit_events) GROUP BY tenant`,
      `WITH t AS (SELECT tenant FROM audit_actions_hourly) SELECT DISTINCT tenant FROM t`,
      `SELECT DISTINCT c.tenant AS tenant FROM audit_changes AS c INNER JOIN audit_events AS e ON c.event_id = e.event_id`,
      `SELECT DISTINCT tenant FROM audit_events WHERE event_id IN (SELECT event_id FROM audit_changes)`,
      `SELECT tenant FROM audit_events UNION DISTINCT SELECT tenant FROM audit_events_deduplicated`,
    ]
    for (const query of queries) expect(await tenantsSeen(['acme'], query), query).toEqual(['acme'])
    const none = [
      `SELECT count() AS n FROM audit_events WHERE tenant = 'globex.eu'`,
      `SELECT count() AS n FROM audit_events WHERE event_id IN (SELECT event_id FROM audit_changes WHERE tenant = 'globex.eu')`,
      `SELECT count() AS n FROM audit_changes AS c INNER JOIN audit_events AS e USING (event_id) WHERE c.tenant = 'globex.eu'`,
    ]
    for (const query of none) expect(await asKey(['acme'], query), query).toEqual([{ n: '0' }])
    // A bare count() is answered from the parts' metadata unless a row policy applies.
    expect(await asKey(['acme'], 'SELECT count() AS n FROM audit_events')).toEqual([{ n: '2' }])
  })

  it('shows a key of every tenant everything, a key of no tenant nothing, and refuses a query naming no role', async () => {
    expect(await tenantsSeen('all', 'SELECT DISTINCT tenant FROM audit_events')).toEqual([
      'acme',
      'globex.eu',
    ])
    expect(await tenantsSeen(['globex.eu'], 'SELECT DISTINCT tenant FROM audit_changes')).toEqual([
      'globex.eu',
    ])
    expect(await asKey([], 'SELECT count() AS n FROM audit_events')).toEqual([{ n: '0' }])
    const noRole = await refusal(
      api.client.query({
        query: 'SELECT count() FROM audit_events',
        clickhouse_settings: { quota_key: 'k' },
      }),
    )
    expect(noRole.type).toBe('ACCESS_DENIED')
    // A tenant's role alone brings no SELECT; a role the user was not granted cannot be named.
    const tenantOnly = await refusal(
      api.client.query({
        query: 'SELECT count() FROM audit_events',
        role: [names.tenantRole('acme')],
        clickhouse_settings: { quota_key: 'k' },
      }),
    )
    expect(tenantOnly.type).toBe('ACCESS_DENIED')
    const notGranted = await refusal(
      api.client.query({
        query: 'SELECT 1',
        role: [names.analystRole],
        clickhouse_settings: { quota_key: 'k' },
      }),
    )
    expect(notGranted.type).toBe('SET_NON_GRANTED_ROLE')
  })

  it('accepts what the query API sends, lower caps included, and refuses any attempt to raise a cap', async () => {
    const apiSettings = {
      ...sessionSettings,
      additional_table_filters: `{'audit_events': 'tenant IN (\\'acme\\')'}`,
      max_memory_usage: '268435456',
      max_rows_to_read: '100000000',
      read_overflow_mode: 'throw',
      max_result_bytes: '67108864',
      max_result_rows: '10000',
      result_overflow_mode: 'throw',
      max_execution_time: 10,
      timeout_overflow_mode: 'throw',
      max_bytes_before_external_group_by: '134217728',
      max_bytes_before_external_sort: '134217728',
      max_query_size: '262144',
      max_parser_depth: '256',
      max_ast_depth: '256',
      max_ast_elements: '20000',
      readonly: '1',
    }
    expect(await tenantsSeen(['acme'], 'SELECT DISTINCT tenant FROM audit_events')).toEqual(['acme'])
    expect(
      (
        await asKey<{ tenant: string }>(['acme'], 'SELECT DISTINCT tenant FROM audit_events', apiSettings)
      ).map((row) => row.tenant),
    ).toEqual(['acme'])

    // SET of a setting changeable in read-only mode is checked against its bounds like any change;
    // whichever check refuses it first, it is refused.
    const set = await refusal(
      commandAsKey(['acme'], `SET max_memory_usage = ${defaultReaderLimits.maxMemoryBytes + 1}`),
    )
    expect(['SETTING_CONSTRAINT_VIOLATION', 'READONLY']).toContain(set.type)
    const attempts = [
      asKey(
        ['acme'],
        `SELECT 1 SETTINGS max_execution_time = ${defaultReaderLimits.maxExecutionSeconds + 1}`,
      ),
      asKey(['acme'], 'SELECT 1', { max_rows_to_read: defaultReaderLimits.maxRowsToRead + 1 }),
      // 0 is "no limit".
      asKey(['acme'], 'SELECT 1', { max_execution_time: 0 }),
      asKey(['acme'], 'SELECT 1 SETTINGS max_result_rows = 0'),
    ]
    for (const attempt of attempts) expect((await refusal(attempt)).type).toBe('SETTING_CONSTRAINT_VIOLATION')
    // Anything not marked changeable is not changeable at all under readonly = 1.
    for (const attempt of [
      commandAsKey(['acme'], 'SET readonly = 0'),
      asKey(['acme'], 'SELECT 1', { max_threads: 64 }),
      asKey(['acme'], "SELECT 1 SETTINGS result_overflow_mode = 'break'"),
    ]) {
      expect((await refusal(attempt)).type).toBe('READONLY')
    }
  })

  it('lets a reader write nothing, create nothing, read no system table beyond the catalog, and no file', async () => {
    for (const query of [
      `INSERT INTO audit_events (tenant) VALUES ('acme')`,
      'CREATE TABLE leak (a String) ENGINE = Memory',
      'ALTER TABLE audit_events DELETE WHERE 1',
    ]) {
      const error = await refusal(commandAsKey('all', query))
      expect(['READONLY', 'ACCESS_DENIED'], query).toContain(error.type)
    }
    for (const query of ['SELECT query FROM system.query_log LIMIT 1', 'SELECT name FROM system.users']) {
      expect((await refusal(asKey('all', query))).type, query).toBe('ACCESS_DENIED')
    }
    // Table functions that reach outside need CREATE TEMPORARY TABLE and their source's grant.
    for (const query of [
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:8123/?query=SELECT+1', 'LineAsString')",
      `SELECT * FROM remote('127.0.0.1', ${database}.audit_events, 'default', '')`,
    ]) {
      expect(['ACCESS_DENIED', 'READONLY'], query).toContain((await refusal(asKey('all', query))).type)
    }
    const catalog = await asKey<{ name: string }>(
      'all',
      `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`,
    )
    expect(catalog.map((row) => row.name)).toEqual([
      'audit_actions_hourly',
      'audit_changes',
      'audit_events',
      'audit_events_deduplicated',
      'audit_record_latest',
    ])
  })

  it('counts each key against its own quota, and refuses a query that names no key', async () => {
    await asKey(['acme'], 'SELECT 1')
    await asKey('all', 'SELECT 1')
    const usage = await (
      await administrator().client.query({
        query: 'SELECT quota_key, queries FROM system.quotas_usage WHERE quota_name = {quota:String}',
        query_params: { quota: names.queryApiQuota },
        format: 'JSONEachRow',
      })
    ).json<{ quota_key: string; queries: string }>()
    const keys = usage.map((row) => row.quota_key)
    expect(keys).toEqual(expect.arrayContaining(['key-acme', 'key-all']))
    const keyless = await refusal(api.client.query({ query: 'SELECT 1', role: readerRoles(names, 'all') }))
    expect(keyless.type).toBe('QUOTA_REQUIRES_CLIENT_KEY')
  })

  it('lets the sink destroy nothing and read no more than it needs', async () => {
    for (const query of [
      `DROP TABLE ${database}.audit_events`,
      `TRUNCATE TABLE ${database}.audit_events`,
      `ALTER TABLE ${database}.audit_events DELETE WHERE 1`,
      `SELECT count() FROM ${database}.audit_events_deduplicated`,
      'SELECT name FROM system.users',
    ]) {
      expect((await refusal(sink.client.command({ query }))).type, query).toBe('ACCESS_DENIED')
    }
  })

  it("shows an analyst querying ClickHouse directly only their tenant's rows, under the same caps", async () => {
    const direct = await open(analyst, analystPassword)
    const seen = async (query: string, role?: string[]) =>
      (
        await (
          await direct.client.query({ query, format: 'JSONEachRow', ...(role && { role }) })
        ).json<{
          tenant: string
        }>()
      ).map((row) => row.tenant)
    expect(await seen('SELECT DISTINCT tenant FROM audit_events ORDER BY tenant')).toEqual(['acme'])
    // Shedding the tenant role leaves a reader with no rows; shedding the analyst role, no SELECT.
    expect(await seen('SELECT tenant FROM audit_events', [names.analystRole])).toEqual([])
    expect((await refusal(seen('SELECT tenant FROM audit_events', [names.tenantRole('acme')]))).type).toBe(
      'ACCESS_DENIED',
    )
    const raise = direct.client.query({
      query: `SELECT 1 SETTINGS max_memory_usage = ${defaultReaderLimits.maxMemoryBytes + 1}`,
    })
    expect((await refusal(raise)).type).toBe('SETTING_CONSTRAINT_VIOLATION')
  })

  it('refuses an analyst the IP address and session id columns, however asked, unless granted one', async () => {
    const direct = await open(analyst, analystPassword)
    const rows = async (query: string) =>
      (await direct.client.query({ query, format: 'JSONEachRow' })).json<Record<string, unknown>>()
    const attempts = eventRowTables.flatMap((table) => [
      `SELECT actor_ip FROM ${table}`,
      `SELECT tenant, actor_session_id FROM ${table}`,
      `SELECT * FROM ${table}`,
      `SELECT count() FROM ${table} WHERE on_behalf_of_ip = '203.0.113.7'`,
      `SELECT tenant FROM ${table} WHERE actor_session_id IS NOT NULL`,
      `SELECT tenant FROM ${table} ORDER BY on_behalf_of_session_id`,
      `SELECT length(actor_ip) FROM ${table}`,
      `SELECT tenant FROM (SELECT tenant, actor_ip FROM ${table})`,
    ])
    for (const attempt of attempts) expect((await refusal(rows(attempt))).type, attempt).toBe('ACCESS_DENIED')
    // What is not hidden by default stays readable, * EXCEPT the hidden columns included.
    expect(await rows('SELECT tenant, actor_user_agent, attributes FROM audit_events')).toHaveLength(2)
    expect(
      await rows(
        'SELECT * EXCEPT (actor_ip, actor_session_id, on_behalf_of_ip, on_behalf_of_session_id) FROM audit_events_deduplicated',
      ),
    ).toHaveLength(2)
    // The query API's reader role still reads them (it hides them per tenant itself).
    const viaApi = await api.client.query({
      query: 'SELECT actor_ip FROM audit_events',
      format: 'JSONEachRow',
      role: [names.readerRole, names.tenantRole('acme')],
    })
    expect(await viaApi.json()).toHaveLength(2)

    // Granted the IP address to this analyst alone: that, and still not the session id.
    await runAll(
      administrator(),
      analystStatements({ database, user: analyst, tenants: ['acme'], see: ['ip'] }),
    )
    expect(await rows('SELECT actor_ip, on_behalf_of_ip FROM audit_events')).toHaveLength(2)
    expect((await refusal(rows('SELECT actor_session_id FROM audit_events'))).type).toBe('ACCESS_DENIED')
    // A run without it takes it back.
    await runAll(administrator(), analystStatements({ database, user: analyst, tenants: ['acme'] }))
    expect((await refusal(rows('SELECT actor_ip FROM audit_events'))).type).toBe('ACCESS_DENIED')
  })
})
