import { Readable } from 'node:stream'
import type { Row } from '@clickhouse/client'
import { stringify } from 'csv-stringify/sync'
import type { Role } from '../access/apiKeys.js'
import { csvRecord } from '../answers/csvColumns.js'
import { eventAnswer } from '../answers/eventAnswer.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import { rowForRole } from '../answers/redaction.js'
import type { RouteContext } from '../app.js'
import { answerColumns } from '../query/eventColumns.js'
import { eventExportQuery } from '../query/eventQueries.js'
import { exportQuery, filtersOf } from './requestSchemas.js'
import { checkTenant, scopeOfRequest } from './scopeChecks.js'
import { bearerSecurity, type ZodApp } from './zodApp.js'

export type ExportFormat = 'ndjson' | 'csv'

const contentTypes: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

/**
 * Every matching event, oldest first, streamed as NDJSON (the JSON answers' event form) or CSV
 * (the stored columns). Rows are read from ClickHouse as a stream and written as they come, so
 * memory does not grow with the export. The access is recorded before the first byte is sent
 * (the row count is not known then); an export that cannot be recorded is not started.
 */
export function registerExportRoute(app: ZodApp, context: RouteContext): void {
  app.get(
    '/v1/export',
    {
      schema: {
        summary: 'Stream matching events as NDJSON or CSV, oldest first',
        tags: ['events'],
        security: bearerSecurity,
        querystring: exportQuery,
      },
    },
    async (request, reply) => {
      const scope = scopeOfRequest(request)
      const { format, ...filterQuery } = request.query
      const filters = filtersOf(filterQuery)
      checkTenant(scope, filters.tenant)
      const { query, params } = eventExportQuery(filters, scope, context.limits.maxExportRows)
      const result = await context.storage.client.query({
        query,
        query_params: params,
        format: 'JSONEachRow',
      })
      try {
        await context.recordRead(request, undefined)
      } catch (error) {
        result.close()
        throw error
      }
      const lines = exportLines(result.stream<StoredEventRow>(), format, scope.role, (rows) =>
        context.metrics.rowsReturned.inc({ route: '/v1/export' }, rows),
      )
      return reply
        .header('content-type', contentTypes[format])
        .header('content-disposition', `attachment; filename="audit-events.${format}"`)
        .send(Readable.from(lines))
    },
  )
}

/** The export's text, a chunk per block of rows ClickHouse sends; counts rows as they go. */
export async function* exportLines(
  blocks: AsyncIterable<Row<StoredEventRow, 'JSONEachRow'>[]>,
  format: ExportFormat,
  role: Role,
  counted: (rows: number) => void,
): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([], { header: true, columns: [...answerColumns] })
  for await (const block of blocks) {
    const rows = block.map((row) => rowForRole(row.json(), role))
    yield format === 'csv'
      ? stringify(rows.map(csvRecord), { columns: [...answerColumns] })
      : rows.map((row) => `${JSON.stringify(eventAnswer(row))}\n`).join('')
    counted(rows.length)
  }
}
