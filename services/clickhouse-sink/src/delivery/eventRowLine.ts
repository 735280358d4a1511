import { eventColumns, type AuditEventRow } from '@audit-pipeline/clickhouse-schema'

/**
 * The format event rows are inserted in, on both transports. Measured on 100,000 rows of the
 * bench's events (chDB, 50,000-row inserts, CPU time of the whole process): ClickHouse inserts a
 * JSONCompactEachRow row (parsing, the part, the views) in 23–27 µs against 30–33 µs for
 * JSONEachRow (no key to match per value), and V8 writes it in 4.5 µs against 6–8 µs, at 844
 * bytes against 1,514. TabSeparated inserts no faster (23–26 µs) and would need an escaper of our
 * own, where this one is JSON.stringify's, the same escaping as the JSONEachRow lines before it.
 * Binary formats are out of reach on both sides: chDB's raw insert takes text formats only, and
 * @clickhouse/client 1.23 has no RowBinary or Native writer (ClickHouse/clickhouse-js#216).
 */
export const eventRowFormat = 'JSONCompactEachRow'

/** `audit_events`' columns in the order eventRowLine writes their values (also `audit_record_latest`'s). */
export const eventRowColumns: readonly (keyof AuditEventRow)[] = eventColumns.map(
  ([name]) => name as keyof AuditEventRow,
)

/**
 * The row as one JSONCompactEachRow line, newline included: its values in `eventRowColumns`'
 * order, written by JSON.stringify as the JSONEachRow object was (strings escaped alike, lone
 * surrogates included; `changes` entries stay objects, ClickHouse's JSON form of a named tuple),
 * so ClickHouse stores exactly what it stored from that object.
 */
export function eventRowLine(row: AuditEventRow): string {
  const values: unknown[] = new Array<unknown>(eventRowColumns.length)
  for (let i = 0; i < eventRowColumns.length; i++) values[i] = row[eventRowColumns[i]!]
  return `${JSON.stringify(values)}\n`
}
