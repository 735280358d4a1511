import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { AccessScope } from '../access/accessScope.js'
import { csvRecord } from '../answers/csvColumns.js'
import { eventAnswer } from '../answers/eventAnswer.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import type { RouteContext } from '../app.js'
import type { PageCursor } from '../query/cursor.js'
import { answerColumns } from '../query/eventColumns.js'
import type { EventFilters } from '../query/eventFilters.js'
import { eventPageQuery } from '../query/eventQueries.js'
import { readerOf, rowsShown, withSealedValueSearch } from './readerRows.js'
import { exportQuery, filtersOf } from './requestSchemas.js'
import { checkHiddenFilters, checkTenant, filtersOnHideableFields, scopeOfRequest } from './scopeChecks.js'
import { select } from './selectRows.js'
import { bearerSecurity, type ZodApp } from './zodApp.js'

export type ExportFormat = 'ndjson' | 'csv'

const contentTypes: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
}

/** Rows per query of an export: what the API holds of it at a time. */
export const exportPageRows = 2_000

/**
 * Every matching event, oldest first, streamed as NDJSON (the JSON answers' event form) or CSV
 * (the stored columns). The export is read a keyset page at a time, each page one capped query
 * written out before the next is asked for, so memory stays bounded on both transports
 * (embedded ClickHouse holds a whole answer in memory, so one streamed query would not do), and
 * a slow client slows the reading down. The access is recorded once the first page is read and
 * before its first byte is sent (the row count is not known then); an export that cannot be
 * recorded is not started.
 */
export function registerExportRoute(app: ZodApp, context: RouteContext): void {
  app.get(
    '/v1/export',
    {
      schema: {
        summary: 'Stream matching events as NDJSON or CSV, oldest first',
        description:
          'Exports the trail: the latest change of a record kept at temporal logging level 1 (audit_record_latest) is read with its timeline, its state or SQL.',
        tags: ['events'],
        security: bearerSecurity,
        querystring: exportQuery,
      },
    },
    async (request, reply) => {
      const scope = scopeOfRequest(request)
      const { format, ...filterQuery } = request.query
      const asked = filtersOf(filterQuery)
      checkTenant(scope, asked.tenant)
      const reader = readerOf(context, scope)
      checkHiddenFilters(scope, reader, asked.tenant, filtersOnHideableFields(asked))
      const filters = await withSealedValueSearch(context, scope, '/v1/export', asked)
      const pages = exportPages(context, scope, filters, context.limits.maxExportRows)
      // The first page before the record and the headers: a refused query is still a 400, and a
      // key store that fails is still an error answer rather than a cut stream.
      const first = await pages.next()
      const firstShown = first.done ? [] : await rowsShown(first.value, reader, filters)
      await context.recordRead(request, undefined)
      async function* all() {
        if (firstShown.length > 0) yield firstShown
        for await (const page of pages) {
          const shown = await rowsShown(page, reader, filters)
          if (shown.length > 0) yield shown
        }
      }
      const lines = exportLines(all(), format, (rows) =>
        context.metrics.rowsReturned.inc({ route: '/v1/export' }, rows),
      )
      return reply
        .header('content-type', contentTypes[format])
        .header('content-disposition', `attachment; filename="audit-events.${format}"`)
        .send(Readable.from(lines))
    },
  )
}

/** The matching rows, a page per query, oldest first, `maxRows` at most. */
async function* exportPages(
  context: RouteContext,
  scope: AccessScope,
  filters: EventFilters,
  maxRows: number,
): AsyncGenerator<StoredEventRow[]> {
  let cursor: PageCursor | undefined
  for (let left = maxRows; left > 0;) {
    const limit = Math.min(exportPageRows, left)
    const query = eventPageQuery({ filters, order: 'asc', limit, ...(cursor && { cursor }) }, scope)
    const rows = (await select<StoredEventRow>(context, scope, '/v1/export', query)).slice(0, limit)
    if (rows.length > 0) yield rows
    const last = rows.at(-1)
    if (rows.length < limit || !last) return
    left -= rows.length
    cursor = { occurredAt: last.occurred_at, eventId: last.event_id }
  }
}

/**
 * A cell starting with = + - @, a tab or a carriage return is a formula to a spreadsheet
 * (OWASP "CSV Injection"): `escape_formulas` prefixes it with ' so it opens as text. Event
 * values come from producers, so an actor name of `=HYPERLINK(…)` is not to run on an
 * auditor's machine.
 */
const csvOptions = { columns: [...answerColumns], escape_formulas: true }

/**
 * The export's text, a chunk per page of rows already as the reader may see them (readerRows.ts:
 * opened for an auditor, redacted for an analyst); counts rows as they go.
 */
export async function* exportLines(
  pages: AsyncIterable<StoredEventRow[]>,
  format: ExportFormat,
  counted: (rows: number) => void,
): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([], { ...csvOptions, header: true })
  for await (const rows of pages) {
    yield format === 'csv'
      ? stringify(rows.map(csvRecord), csvOptions)
      : rows.map((row) => `${JSON.stringify(eventAnswer(row))}\n`).join('')
    counted(rows.length)
  }
}
