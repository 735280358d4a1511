import type { QueryApiClient } from './queryApiClient.js'
import { filterQuery, type OutputFormat } from './queryOptions.js'
import {
  csvLines,
  eventListing,
  stateListing,
  tableLines,
  type ApiEvent,
  type ApiRecordState,
} from './queryOutput.js'

export type QueryIo = {
  out: (line: string) => void
  err: (line: string) => void
  /** The terminal's width, for tables; 160 when not a terminal. */
  widthChars?: number
}

type EventsPage = { events: ApiEvent[]; next_cursor: string | null; kept?: 'latest' | 'all' }

/** Said under an answer about a record kept at temporal level 1 (services/query-api README). */
const keptLatestNote = '; kept at temporal level 1: only its latest change was stored'

/** The API's largest page; the CLI pages through with the cursor up to --limit events. */
const maxPageRows = 1_000

/** `audit-pipeline query search`: events matching the filters, newest first, up to `limit`. */
export async function querySearchCommand(
  options: { filters: URLSearchParams; limit: number; format: OutputFormat },
  client: QueryApiClient,
  io: QueryIo,
): Promise<number> {
  const { events, more } = await collectPages(client, '/v1/events', options.filters, options.limit)
  printEvents(events, options.format, io)
  io.err(`${events.length} event(s)${more ? `; more match: raise --limit (now ${options.limit})` : ''}`)
  return 0
}

/** `audit-pipeline query timeline <type> <id>`: a record's events, oldest first, with changes. */
export async function queryTimelineCommand(
  options: { objectType: string; objectId: string; tenant?: string; limit: number; format: OutputFormat },
  client: QueryApiClient,
  io: QueryIo,
): Promise<number> {
  const filters = filterQuery(options.tenant === undefined ? {} : { tenant: options.tenant })
  const path = `/v1/objects/${encodeURIComponent(options.objectType)}/${encodeURIComponent(options.objectId)}/timeline`
  const { events, more, kept } = await collectPages(client, path, filters, options.limit)
  printEvents(events, options.format, io)
  io.err(
    `${events.length} event(s) for ${options.objectType} ${options.objectId}${kept === 'latest' ? keptLatestNote : ''}${more ? `; more: raise --limit (now ${options.limit})` : ''}`,
  )
  return 0
}

/**
 * `audit-pipeline query state <type> <id> [--at]`: the record as of a time, rebuilt from its
 * events by the API: each field's value and its last change.
 */
export async function queryStateCommand(
  options: {
    objectType: string
    objectId: string
    filters: URLSearchParams
    at?: string
    format: OutputFormat
  },
  client: QueryApiClient,
  io: QueryIo,
): Promise<number> {
  const query = new URLSearchParams(options.filters)
  if (options.at !== undefined) query.set('at', options.at)
  const path = `/v1/objects/${encodeURIComponent(options.objectType)}/${encodeURIComponent(options.objectId)}/state`
  const state = await client.get<ApiRecordState>(path, query)
  if (options.format === 'json') io.out(JSON.stringify(state))
  else {
    const listing = stateListing(state)
    const lines = options.format === 'csv' ? csvLines(listing) : tableLines(listing, io.widthChars ?? 160)
    for (const line of lines) io.out(line)
  }
  io.err(
    `${state.object.type} ${state.object.id} (tenant ${state.tenant}) as of ${state.at}: ${state.fields.length} field(s) from ${state.events} event(s)${state.deleted ? '; deleted by its last event' : ''}${state.kept === 'latest' ? keptLatestNote : ''}`,
  )
  return 0
}

export function printEvents(events: readonly ApiEvent[], format: OutputFormat, io: QueryIo): void {
  if (format === 'json') {
    for (const event of events) io.out(JSON.stringify(event))
    return
  }
  const listing = eventListing(events)
  const lines = format === 'csv' ? csvLines(listing) : tableLines(listing, io.widthChars ?? 160)
  for (const line of lines) io.out(line)
}

async function collectPages(client: QueryApiClient, path: string, filters: URLSearchParams, limit: number) {
  const events: ApiEvent[] = []
  let cursor: string | null = null
  let kept: EventsPage['kept']
  do {
    const query = new URLSearchParams(filters)
    query.set('limit', String(Math.min(maxPageRows, limit - events.length)))
    if (cursor) query.set('cursor', cursor)
    const page: EventsPage = await client.get<EventsPage>(path, query)
    events.push(...page.events)
    kept = page.kept ?? kept
    cursor = page.next_cursor
  } while (cursor && events.length < limit)
  return { events, more: cursor !== null, kept }
}
