import { ClickHouseError } from '@audit-pipeline/storage'
import type { RouteContext } from '../app.js'
import { readableTables } from '../access/tenantTableFilters.js'
import { checkedSelect } from '../query/sql/checkedSelect.js'
import { RequestRefused } from '../requestRefused.js'
import { sqlBody } from './requestSchemas.js'
import { scopeOfRequest } from './scopeChecks.js'
import { bearerSecurity, type ZodApp } from './zodApp.js'

/** ClickHouse's code for a statement refused in readonly mode. */
const readonlyRefusal = 164

type JsonAnswer = {
  meta: { name: string; type: string }[]
  data: Record<string, unknown>[]
  rows: number
  statistics?: { elapsed: number; rows_read: number; bytes_read: number }
}

/**
 * `POST /v1/sql`: one SELECT over the audit tables (readableTables), for auditors only. An analyst's answers hide
 * sensitive values, which arbitrary SQL cannot promise (`audit_changes` has no list of sensitive
 * paths at all), so analysts get 403 here and use the other endpoints. ClickHouse reads the
 * statement and the API checks ClickHouse's parse of it (query/sql/checkedSelect.ts); what runs
 * is ClickHouse's canonical text of it, readonly, under the caps, with the key's tenants added
 * to every audit table by ClickHouse (additional_table_filters). Values come back as stored:
 * sealed values stay ciphertext (opening them needs the whole event, which a result row need not
 * be), so SQL never shows a value an erasure destroyed the key of.
 */
export function registerSqlRoute(app: ZodApp, context: RouteContext): void {
  const { caps, sql: sqlLimits } = context.limits
  app.post(
    '/v1/sql',
    {
      schema: {
        summary: 'Run one read-only SELECT over the audit tables (auditors only)',
        description: `readonly, at most ${sqlLimits.maxResultRows} rows, ${caps.maxExecutionSeconds} s and ${caps.maxMemoryBytes} bytes of memory; functions from an allowed list; a tenant-restricted key sees its tenants' rows only. Tables: ${readableTables.join(', ')}. audit_record_latest holds the records kept at temporal logging level 1, each one's latest change only: until a merge it may hold several versions of a record, so read it with FINAL (SELECT … FROM audit_record_latest FINAL) or argMax(x, (occurred_at, toUInt128(event_id))) grouped by tenant, object_type, object_id, object_id2, object_id3. Values are returned as stored: sealed values (enc:v1:…) stay ciphertext; the other endpoints open them for auditors.`,
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
      const params = request.body.params ?? {}
      const stop = context.metrics.querySeconds.startTimer({ route: '/v1/sql' })
      try {
        const checked = await checkedSelect(
          context.queries,
          scope,
          context.database,
          request.body.sql,
          params,
        )
        if (!checked.ok) throw new RequestRefused(400, checked.reasons.join('; '))
        const answer = await context.queries.run(
          scope,
          {
            query: checked.sql,
            query_params: params,
            format: 'JSON',
            maxResultRows: sqlLimits.maxResultRows,
          },
          async (result) => result.json<JsonAnswer>(),
        )
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
        // The auditor's own SQL failed: ClickHouse's message is the useful answer.
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
