import { Readable } from 'node:stream'
import { drainStream } from '@clickhouse/client'
import { beforeAll, describe, expect, it } from 'vitest'
import { ClickHouseError, fromDateTime64Text, openStorage, toDateTime64Text, type Storage } from './index.js'
import type { StorageConfig } from './storageConfig.js'
import { uniqueName } from '@audit-pipeline/testing'
import { temporaryDataDir } from './testing/testResources.js'

// The same suite over every transport: the rest of the pipeline must not be able to tell them
// apart. Embedded always runs; HTTP runs when a server is given, as in CI or `npm run stack`.
const clickhouseUrl = process.env['CLICKHOUSE_URL']

type Transport = {
  name: 'embedded' | 'http'
  available: boolean
  /** A config for `database`, and whatever must be removed once the suite is done. */
  prepare: (database: string) => Promise<{ config: StorageConfig; cleanUp: () => Promise<void> }>
}

const transports: Transport[] = [
  {
    name: 'embedded',
    available: true,
    async prepare(database) {
      const dataDir = await temporaryDataDir()
      return { config: { kind: 'embedded', dataPath: dataDir.path, database }, cleanUp: dataDir.remove }
    },
  },
  {
    name: 'http',
    available: clickhouseUrl !== undefined,
    prepare(database) {
      const config: StorageConfig = {
        kind: 'http',
        url: clickhouseUrl ?? '',
        username: process.env['CLICKHOUSE_USERNAME'],
        password: process.env['CLICKHOUSE_PASSWORD'],
        database,
      }
      return Promise.resolve({ config, cleanUp: () => Promise.resolve() })
    },
  },
]

type Row = Record<string, unknown>

async function select(
  storage: Storage,
  query: string,
  query_params?: Record<string, unknown>,
): Promise<Row[]> {
  const result = await storage.client.query({ query, query_params, format: 'JSONEachRow' })
  return result.json<Row>()
}

/** Field by field, so a failure names the row and column that differ. */
function expectRows(actual: Row[], expected: Row[]): void {
  expect(actual).toHaveLength(expected.length)
  expected.forEach((expectedRow, index) => {
    const actualRow = actual[index] ?? {}
    expect(Object.keys(actualRow).sort(), `columns of row ${index}`).toEqual(Object.keys(expectedRow).sort())
    for (const [column, value] of Object.entries(expectedRow)) {
      expect(actualRow[column], `${column} of row ${index}`).toEqual(value)
    }
  })
}

for (const transport of transports) {
  describe.skipIf(!transport.available)(`storage contract over ${transport.name}`, () => {
    const database = uniqueName('storage_contract')
    let storage: Storage

    beforeAll(async () => {
      const { config, cleanUp } = await transport.prepare(database)
      storage = await openStorage(config)
      await storage.ensureDatabase(database)
      return async () => {
        try {
          await storage.client.command({ query: `DROP DATABASE IF EXISTS ${database}` })
        } finally {
          await storage.close()
          await cleanUp()
        }
      }
    })

    it('answers a ping and describes where it is without credentials', async () => {
      await storage.ping()
      const description = storage.describe()
      expect(description).toMatchObject({ transport: transport.name, database })
      const password = process.env['CLICKHOUSE_PASSWORD']
      if (transport.name === 'http' && password) expect(JSON.stringify(description)).not.toContain(password)
    })

    it('resolves unqualified names in the configured database', async () => {
      expectRows(await select(storage, 'SELECT currentDatabase() AS db'), [{ db: database }])
    })

    it('creates a MergeTree table, inserts JSONEachRow and reads back by a query parameter', async () => {
      await storage.client.command({
        query: `CREATE TABLE events (
          tenant String, seq UInt64, event_id UUID, actor Nullable(String), amount Float64, ok Bool
        ) ENGINE = MergeTree ORDER BY (tenant, seq)`,
      })
      const rows = [
        {
          tenant: 'acme',
          seq: '2',
          event_id: 'b5a0e8f2-7c1e-4a55-9f0e-4d7d6f3b2a10',
          actor: null,
          amount: -0.5,
          ok: false,
        },
        {
          tenant: 'other',
          seq: '1',
          event_id: '0d6f3b2a-1111-4a55-9f0e-4d7d6f3b2a10',
          actor: 'x',
          amount: 1,
          ok: true,
        },
        // 2^63 + 1: 64-bit integers travel as strings, or they would lose precision in JS.
        {
          tenant: 'acme',
          seq: '9223372036854775809',
          event_id: '7c1e4a55-2222-4a55-9f0e-4d7d6f3b2a10',
          actor: "o'brien",
          amount: 12.25,
          ok: true,
        },
      ]
      await storage.client.insert({ table: 'events', values: rows, format: 'JSONEachRow' })

      const acme = await select(storage, 'SELECT * FROM events WHERE tenant = {tenant:String} ORDER BY seq', {
        tenant: 'acme',
      })
      expectRows(acme, [rows[0]!, rows[2]!])
    })

    it('keeps DateTime64(3) milliseconds on the way in, on the way out and in query parameters', async () => {
      await storage.client.command({
        query: `CREATE TABLE instants (id UInt32, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id`,
      })
      const instants = [
        new Date('2024-02-29T23:59:59.999Z'),
        new Date('1970-01-01T00:00:00.001Z'),
        new Date('2024-01-02T03:04:05.000Z'),
        new Date('2031-07-15T12:00:00.010Z'),
        new Date('1999-12-31T23:59:59.500Z'),
      ]
      await storage.client.insert({
        table: 'instants',
        values: [
          ...instants.slice(0, 3).map((at, id) => ({ id, at: toDateTime64Text(at) })),
          // Epoch milliseconds as a number are DateTime64(3) ticks.
          { id: 3, at: instants[3]!.getTime() },
          // A Date is sent as JSON.stringify makes it: 1999-12-31T23:59:59.500Z.
          { id: 4, at: instants[4] },
        ],
        format: 'JSONEachRow',
      })

      const stored = await select(storage, 'SELECT id, at FROM instants ORDER BY id')
      expectRows(
        stored,
        instants.map((at, id) => ({ id, at: toDateTime64Text(at) })),
      )
      expect(stored.map((row) => fromDateTime64Text(String(row['at'])).getTime())).toEqual(
        instants.map((at) => at.getTime()),
      )

      // A Date parameter must match to the millisecond; inside an array, dates go as text.
      for (const [id, at] of instants.entries()) {
        expectRows(await select(storage, 'SELECT id FROM instants WHERE at = {at:DateTime64(3)}', { at }), [
          { id },
        ])
      }
      expectRows(
        await select(
          storage,
          "SELECT id FROM instants WHERE has({ats:Array(DateTime64(3, 'UTC'))}, at) ORDER BY id",
          {
            ats: [instants[1]!, instants[3]!].map(toDateTime64Text),
          },
        ),
        [{ id: 1 }, { id: 3 }],
      )
    })

    it('round-trips Map and Array columns, empty ones and awkward strings included', async () => {
      await storage.client.command({
        query: `CREATE TABLE shapes (
          id UInt32, tags Array(String), attrs Map(String, String), counts Map(String, UInt32),
          matrix Array(Array(Nullable(String)))
        ) ENGINE = MergeTree ORDER BY id`,
      })
      const awkward = 'quote \' double " backslash \\ tab \t newline \n unicode é 漢字 🦆'
      const rows = [
        {
          id: 1,
          tags: ['a', awkward, ''],
          attrs: { role: 'admin', [awkward]: awkward },
          counts: { x: 1, y: 4294967295 },
          matrix: [['a', null], []],
        },
        { id: 2, tags: [], attrs: {}, counts: {}, matrix: [] },
      ]
      await storage.client.insert({ table: 'shapes', values: rows, format: 'JSONEachRow' })
      expectRows(await select(storage, 'SELECT * FROM shapes ORDER BY id'), rows)

      // The same values as query parameters, bound by the server.
      const params = { s: awkward, tags: rows[0]!.tags, attrs: rows[0]!.attrs }
      expectRows(
        await select(
          storage,
          'SELECT {s:String} AS s, {tags:Array(String)} AS tags, {attrs:Map(String, String)} AS attrs',
          params,
        ),
        [params],
      )
      expectRows(
        await select(
          storage,
          'SELECT id FROM shapes WHERE has(tags, {tag:String}) AND attrs[{key:String}] = {tag:String}',
          {
            tag: awkward,
            key: awkward,
          },
        ),
        [{ id: 1 }],
      )
    })

    // Rows as objects through `insert`, or already serialised as a byte stream through `exec`
    // (the sink's way; embedded, the payload goes to chDB as bytes rather than SQL text).
    it.each(['insert', 'exec'] as const)(
      'deduplicates a retried insert by insert_deduplication_token, and only that insert (%s)',
      async (way) => {
        const table = `batches_${way}`
        await storage.client.command({
          query: `CREATE TABLE ${table} (id UInt32, batch String) ENGINE = MergeTree ORDER BY id
                SETTINGS non_replicated_deduplication_window = 1000`,
        })
        const insert = async (ids: number[], batch: string, token?: string) => {
          const clickhouse_settings = token === undefined ? {} : { insert_deduplication_token: token }
          const rows = ids.map((id) => ({ id, batch }))
          if (way === 'insert') {
            await storage.client.insert({ table, values: rows, format: 'JSONEachRow', clickhouse_settings })
            return
          }
          const lines = rows.map((row) => `${JSON.stringify(row)}\n`).join('')
          const { stream } = await storage.client.exec({
            query: `INSERT INTO ${table} FORMAT JSONEachRow`,
            values: Readable.from([Buffer.from(lines)], { objectMode: false }),
            clickhouse_settings,
          })
          await drainStream(stream)
        }

        await insert([1, 2], 'first', 'topic-0-0-1')
        await insert([1, 2], 'first retried', 'topic-0-0-1')
        // No token: must not inherit the previous statement's one and be dropped as its duplicate.
        await insert([3], 'untokened')
        await insert([4], 'second', 'topic-0-2-2')
        // At the same time, so a setting leaking between concurrent statements would show.
        await Promise.all([
          ...Array.from({ length: 8 }, () => insert([5], 'concurrent retry', 'topic-0-3-3')),
          ...Array.from({ length: 8 }, (_, i) => insert([100 + i], 'concurrent untokened')),
        ])

        const stored = await select(storage, `SELECT id, batch FROM ${table} ORDER BY id`)
        expectRows(stored, [
          { id: 1, batch: 'first' },
          { id: 2, batch: 'first' },
          { id: 3, batch: 'untokened' },
          { id: 4, batch: 'second' },
          { id: 5, batch: 'concurrent retry' },
          ...Array.from({ length: 8 }, (_, i) => ({ id: 100 + i, batch: 'concurrent untokened' })),
        ])
        expectRows(await select(storage, "SELECT getSetting('insert_deduplication_token') AS token"), [
          { token: '' },
        ])
      },
    )

    it('reports a refused byte-stream insert as ClickHouseError with the server code', async () => {
      await storage.client.command({ query: 'CREATE TABLE typed (id UUID) ENGINE = MergeTree ORDER BY id' })
      const failure = await storage.client
        .exec({
          query: 'INSERT INTO typed FORMAT JSONEachRow',
          values: Readable.from([Buffer.from('{"id":"not-a-uuid"}\n')], { objectMode: false }),
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      expect(failure).toBeInstanceOf(ClickHouseError)
      expect(failure).toMatchObject({ type: 'CANNOT_PARSE_UUID' })
    })

    it('runs exec and reports ClickHouse errors as ClickHouseError with the server code', async () => {
      const exec = await storage.client.exec({ query: 'SELECT 42 AS answer FORMAT JSONEachRow' })
      let body = ''
      for await (const chunk of exec.stream) body += String(chunk)
      expect(JSON.parse(body)).toEqual({ answer: 42 })

      const failure = await storage.client
        .query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' })
        .then(
          () => undefined,
          (error: unknown) => error,
        )
      expect(failure).toBeInstanceOf(ClickHouseError)
      expect(failure).toMatchObject({ code: '60', type: 'UNKNOWN_TABLE' })
    })
  })
}
