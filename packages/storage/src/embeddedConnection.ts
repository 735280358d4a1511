import type { ClickHouseClientConfigOptions } from '@clickhouse/client'
import { asClientError } from './clickHouseError.js'
import { quoteDatabaseName } from './databaseName.js'
import { embeddedQueryParams } from './embeddedQueryParams.js'
import { hasStatementSettings, statementPrelude } from './embeddedStatement.js'

// The client's connection contract, named through its public config type: @clickhouse/client
// deliberately does not export `Connection` itself.
export type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>
type StatementParams = Parameters<Connection['query']>[0]

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
  openChdb: () => Connection,
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
    insert: (params) => run(params, (connection, p) => connection.insert(p)),
    command: (params) => run(params, (connection, p) => connection.command(p)),
    exec: (params) => run(params, (connection, p) => connection.exec(p)),
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
