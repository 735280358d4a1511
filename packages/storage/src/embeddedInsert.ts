import type { Readable } from 'node:stream'
import { sessionSettings } from './sessionSettings.js'

/**
 * An insert chDB can take as bytes: the payload goes to the engine as a Buffer, parsed there by
 * ClickHouse's own format parser, instead of being pasted into the statement's SQL text (what
 * chDB's `@clickhouse/client` connection does, at about twice the cost per row and two more
 * copies of the batch on the V8 heap).
 */
export type RawInsert = {
  table: string
  columns?: string[]
  format: RawInsertFormat
  settings: Record<string, string | number | boolean>
}

const rawInsertFormats = [
  'JSONEachRow',
  'JSONCompactEachRow',
  'CSV',
  'CSVWithNames',
  'TSV',
  'TabSeparated',
  'TSVWithNames',
  'TabSeparatedWithNames',
] as const
export type RawInsertFormat = (typeof rawInsertFormats)[number]

// chDB's raw insert accepts plain identifiers only; anything quoted takes the SQL-text path.
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/
const qualifiedName = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

// Settings only the HTTP server knows; the client may send them, the engine would refuse them.
const httpOnlySettings = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_response_buffer_size',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
])

/**
 * Reads `INSERT INTO <table>[ (<columns>)] FORMAT <format>`, the statement `@clickhouse/client`
 * writes for `client.insert`, as a raw insert into `database`; undefined when the statement is
 * anything else (quoted names, `* EXCEPT`, a binary format), which then takes the SQL-text path.
 *
 * The settings are the pinned session settings plus the statement's own, all in the insert's
 * `SETTINGS` clause, so they last for this statement only and need no connection of their own.
 */
export function rawInsertOf(
  query: string,
  database: string | undefined,
  settings: Record<string, unknown> | undefined,
): RawInsert | undefined {
  const match = /^INSERT INTO (\S+)(?: \(([^)]*)\))? FORMAT (\w+)$/.exec(query.trim())
  if (!match) return undefined
  const [, name = '', columnList, format = ''] = match
  if (!qualifiedName.test(name) || !isRawInsertFormat(format)) return undefined
  if (database !== undefined && !identifier.test(database)) return undefined
  const columns = columnList?.split(',').map((column) => column.trim())
  if (columns?.some((column) => !identifier.test(column))) return undefined

  const merged: Record<string, string | number | boolean> = { ...sessionSettings }
  for (const [key, value] of Object.entries(settings ?? {})) {
    if (value === undefined || httpOnlySettings.has(key)) continue
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return undefined
    merged[key] = value
  }
  const table = name.includes('.') || database === undefined ? name : `${database}.${name}`
  return { table, ...(columns && { columns }), format, settings: merged }
}

function isRawInsertFormat(format: string): format is RawInsertFormat {
  return (rawInsertFormats as readonly string[]).includes(format)
}

/** The insert's payload as one Buffer: the client hands over a string, or a stream of chunks. */
export async function payloadBytes(values: string | Readable): Promise<Buffer> {
  if (typeof values === 'string') return Buffer.from(values)
  const chunks: Buffer[] = []
  for await (const chunk of values as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  return chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks)
}
