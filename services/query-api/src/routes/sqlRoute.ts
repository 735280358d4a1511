import { ClickHouseError } from '@audit-pipeline/storage'
import type { RouteContext } from '../app.js'
import { sqlSettings } from '../query/sqlSettings.js'
import { singleStatement } from '../query/sqlStatement.js'
import { sqlTableProblems } from '../query/sqlTables.js'
import { RequestRefused } from '../requestRefused.js'
import { sqlBody } from './requestSchemas.js'
import { scopeOfRequest } from './scopeChecks.js'
import { bearerSecurity, type ZodApp } from './zodApp.js'

/** ClickHouse's code for a statement refused in readonly mode. */
const readonlyRefusal = 164

/**
 * The lines of EXPLAIN AST's answer. A server prints them raw; embedded ClickHouse (chDB) takes
 * the client's FORMAT as the explained query's and prints the lines as CSV strings, so quotes
 * around a line are removed.
 */
export function astLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (/^".*"$/.test(line) ? line.slice(1, -1).replace(/""/g, '"') : line))
}

type JsonAnswer = {
  meta: { name: string; type: string }[]
  data: Record<string, unknown>[]
  rows: number
  statistics?: { elapsed: number; rows_read: number; bytes_read: number }
}

/**
 * `POST /v1/sql`: one SELECT over the audit tables, for auditors only. An analyst's answers hide
 * sensitive values, which arbitrary SQL cannot promise (`audit_changes` has no list of sensitive
 * paths at all), so analysts get 403 here and use the other endpoints. The statement runs with
 * readonly = 1, a time and a row limit, the key's tenants added to every audit table by
 * ClickHouse (additional_table_filters), and only the audit tables readable (sqlTables.ts).
 */
export function registerSqlRoute(app: ZodApp, context: RouteContext): void {
  app.post(
    '/v1/sql',
    {
      schema: {
        summary: 'Run one read-only SELECT over the audit tables (auditors only)',
        description: `readonly, at most ${context.limits.sql.maxResultRows} rows and ${context.limits.sql.maxExecutionSeconds} s; a tenant-restricted key sees its tenants' rows only. Tables: audit_events, audit_events_deduplicated, audit_changes, audit_actions_hourly.`,
        tags: ['sql'],
        security: bearerSecurity,
        body: sqlBody,
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      if (scope.role !== 'auditor') {
        throw new RequestRefused(
          403,
          `the SQL endpoint is for auditors: key ${scope.keyId} is an analyst's, whose answers hide sensitive values, which arbitrary SQL cannot do; use /v1/events, /v1/counts or /v1/export`,
        )
      }
      const statement = singleStatement(request.body.sql)
      if (!statement.ok) throw new RequestRefused(400, statement.reason)
      const settings = sqlSettings(scope, context.database, context.limits.sql)
      const params = request.body.params ?? {}
      const client = context.storage.client
      const stop = context.metrics.querySeconds.startTimer({ route: '/v1/sql' })
      try {
        const ast = await client.query({
          query: `EXPLAIN AST ${statement.sql}`,
          query_params: params,
          format: 'TabSeparatedRaw',
          // The AST has more lines than a small answer has rows: the row limit is not for it.
          clickhouse_settings: { ...settings, max_result_rows: '0' },
        })
        const tables = await client.query({
          query: 'SELECT name FROM system.tables WHERE database = {database:String}',
          query_params: { database: context.database },
          format: 'JSONEachRow',
        })
        const problems = sqlTableProblems(
          astLines(await ast.text()),
          context.database,
          new Set((await tables.json<{ name: string }>()).map((row) => row.name)),
        )
        if (problems.length > 0) throw new RequestRefused(400, problems.join('; '))
        const result = await client.query({
          query: statement.sql,
          query_params: params,
          format: 'JSON',
          clickhouse_settings: settings,
        })
        const answer = await result.json<JsonAnswer>()
        context.metrics.rowsReturned.inc({ route: '/v1/sql' }, answer.data.length)
        await context.recordRead(request, answer.data.length)
        return {
          columns: answer.meta,
          rows: answer.data,
          row_count: answer.data.length,
          ...(answer.statistics && { statistics: answer.statistics }),
        }
      } catch (error) {
        if (!(error instanceof ClickHouseError)) throw error
        // The analyst's own SQL failed: ClickHouse's message is the useful answer.
        throw new RequestRefused(
          Number(error.code) === readonlyRefusal ? 403 : 400,
          `ClickHouse refused the statement: ${error.message.trim()}`,
        )
      } finally {
        stop()
      }
    },
  )
}
