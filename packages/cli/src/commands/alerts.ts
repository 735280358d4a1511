import type { QueryIo } from './query.js'
import type { QueryApiClient } from './queryApiClient.js'
import type { OutputFormat } from './queryOptions.js'
import { alertListing, csvLines, tableLines, type ApiAlert } from './queryOutput.js'

/** `audit-pipeline alerts`: alerts raised and resolved, newest first. */
export async function alertsCommand(
  options: { filters: URLSearchParams; rule?: string; limit: number; format: OutputFormat },
  client: QueryApiClient,
  io: QueryIo,
): Promise<number> {
  const query = new URLSearchParams(options.filters)
  query.set('limit', String(Math.min(options.limit, 1_000)))
  if (options.rule !== undefined) query.set('rule', options.rule)
  const { alerts, next_cursor } = await client.get<{ alerts: ApiAlert[]; next_cursor: string | null }>(
    '/v1/alerts',
    query,
  )
  if (options.format === 'json') {
    for (const alert of alerts) io.out(JSON.stringify(alert))
  } else {
    const listing = alertListing(alerts)
    const lines = options.format === 'csv' ? csvLines(listing) : tableLines(listing, io.widthChars ?? 160)
    for (const line of lines) io.out(line)
  }
  io.err(`${alerts.length} alert(s)${next_cursor ? `; more: raise --limit (now ${options.limit})` : ''}`)
  return 0
}
