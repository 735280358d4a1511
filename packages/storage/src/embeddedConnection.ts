import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { ClickHouseError, parseError, type ClickHouseClientConfigOptions } from '@clickhouse/client'
import { asClientError } from './clickHouseError.js'
import { quoteDatabaseName } from './databaseName.js'
import { embeddedQueryParams } from './embeddedQueryParams.js'
import { payloadBytes, rawInsertOf, type RawInsert } from './embeddedInsert.js'
import { hasStatementSettings, statementPrelude } from './embeddedStatement.js'

// The client's connection contract, named through its public config type: @clickhouse/client
// deliberately does not export `Connection` itself.
export type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>
type StatementParams = Parameters<Connection['query']>[0]
type InsertResult = Awaited<ReturnType<Connection['insert']>>

/** chDB's connection, with its `.chdb` extension: the raw insert that takes the payload as bytes. */
export type ChdbConnection = Connection & {
  chdb?: {
    rawInsert?(
      params: RawInsert & { values: Buffer },
    ): Promise<{ rowsWritten: number; bytesWritten: number; elapsed: number }>
  }
}

/** A chDB connection that behaves like an HTTP one: see embeddedStatement.ts for what differs. */
export type EmbeddedConnection = Connection & {
  /** `CREATE DATABASE IF NOT EXISTS`, without the `USE` of the configured database. */
  createDatabase(name: string): Promise<void>
}

/**
 * Wraps chDB's `@clickhouse/client` connection. `openChdb` opens a connection to the data
 * directory; opening one more on a directory already open takes well under a millisecond,
 * which is what lets statements with settings have one to themselves.
 */
export function createEmbeddedConnection(
  openChdb: () => ChdbConnection,
  database: string | undefined,
): EmbeddedConnection {
  const shared = openChdb()

  async function run<P extends StatementParams, R>(
    params: P,
    call: (connection: Connection, params: P) => Promise<R>,
  ): Promise<R> {
    const statement: P = {
      ...params,
      query: statementPrelude(database, params.clickhouse_settings) + params.query,
      query_params: embeddedQueryParams(params.query_params),
    }
    try {
      if (!hasStatementSettings(params.clickhouse_settings)) return await call(shared, statement)
      // chDB materializes results before resolving, so closing right after is safe.
      const own = openChdb()
      try {
        return await call(own, statement)
      } finally {
        await own.close()
      }
    } catch (error) {
      throw asClientError(error)
    }
  }

  return {
    ping: (params) => shared.ping(params),
    query: (params) => run(params, (connection, p) => connection.query(p)),
    insert: async (params) => {
      const raw = shared.chdb?.rawInsert && rawInsertOf(params.query, database, params.clickhouse_settings)
      if (!raw) return run(params, (connection, p) => connection.insert(p))
      return rawInsert(shared, raw, params.values, params.query_id)
    },
    command: (params) => run(params, (connection, p) => connection.command(p)),
    // `client.exec` with a byte stream of rows: an insert whose rows are already serialised.
    exec: async (params) => {
      const raw =
        params.values !== undefined &&
        shared.chdb?.rawInsert &&
        rawInsertOf(params.query, database, params.clickhouse_settings)
      if (!raw || params.values === undefined) return run(params, (connection, p) => connection.exec(p))
      return { ...(await rawInsert(shared, raw, params.values, params.query_id)), stream: Readable.from([]) }
    },
    close: () => shared.close(),
    async createDatabase(name) {
      const query = `CREATE DATABASE IF NOT EXISTS ${quoteDatabaseName(name)}`
      try {
        await shared.command({ query })
      } catch (error) {
        throw asClientError(error)
      }
    },
  }
}

/**
 * The insert as bytes (see embeddedInsert.ts). Errors come back as the client's ClickHouseError,
 * parsed from chDB's `Code: N. DB::Exception: ...` text, as they do on the SQL-text path.
 */
async function rawInsert(
  connection: ChdbConnection,
  raw: RawInsert,
  payload: string | Readable,
  queryId: string | undefined,
): Promise<InsertResult> {
  const query_id = queryId ?? randomUUID()
  const values = await payloadBytes(payload)
  const summary = (written: number, bytes: number, elapsedSeconds: number) => ({
    read_rows: String(written),
    read_bytes: String(bytes),
    written_rows: String(written),
    written_bytes: String(bytes),
    result_rows: '0',
    result_bytes: '0',
    total_rows_to_read: '0',
    elapsed_ns: String(Math.round(elapsedSeconds * 1e9)),
  })
  const base = { query_id, response_headers: {}, http_status_code: 200 }
  // chDB refuses an insert without rows; the HTTP server takes it as a no-op.
  if (values.length < 64 && values.toString().trim() === '') return { ...base, summary: summary(0, 0, 0) }
  try {
    const result = await connection.chdb!.rawInsert!({ ...raw, values })
    return { ...base, summary: summary(result.rowsWritten, result.bytesWritten, result.elapsed) }
  } catch (error) {
    throw clickHouseErrorOf(error)
  }
}

function clickHouseErrorOf(error: unknown): unknown {
  if (!(error instanceof Error)) return error
  const parsed = parseError(error.message)
  if (!(parsed instanceof ClickHouseError)) return asClientError(error)
  parsed.cause = error
  return parsed
}
