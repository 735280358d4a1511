import type { QueryIo } from './query.js'
import type { QueryApiClient } from './queryApiClient.js'
import type { OutputFormat } from './queryOptions.js'
import { csvLines, sqlListing, tableLines } from './queryOutput.js'

type SqlAnswer = {
  columns: { name: string; type: string }[]
  rows: Record<string, unknown>[]
  row_count: number
}

/** `audit-pipeline sql "SELECT …"`: one read-only statement through the API (auditor keys only). */
export async function sqlCommand(
  options: { sql: string; format: OutputFormat },
  client: QueryApiClient,
  io: QueryIo,
): Promise<number> {
  const answer = await client.post<SqlAnswer>('/v1/sql', { sql: options.sql })
  if (options.format === 'json') {
    for (const row of answer.rows) io.out(JSON.stringify(row))
  } else {
    const listing = sqlListing(answer.columns, answer.rows)
    const lines = options.format === 'csv' ? csvLines(listing) : tableLines(listing, io.widthChars ?? 160)
    for (const line of lines) io.out(line)
  }
  io.err(`${answer.row_count} row(s)`)
  return 0
}
