import { Readable } from 'node:stream'
import { drainStream } from '@clickhouse/client'
import type { Storage } from '@audit-pipeline/storage'
import { eventRowColumns, eventRowFormat } from './eventRowLine.js'

/**
 * Inserts rows into `table` as JSONEachRow with their deduplication token (the chain's entries
 * and checkpoints, written as JSONEachRow lines).
 */
export function rowInserter(
  storage: Storage,
  table: string,
): (rows: readonly { readonly line: string }[], deduplicationToken: string) => Promise<void> {
  const insert = bytesInserter(storage, `INSERT INTO ${table} FORMAT JSONEachRow`)
  return (rows, token) => insert(Buffer.from(rows.map((row) => row.line).join('')), token)
}

/**
 * Inserts event rows into `table` (`audit_events` or `audit_record_latest`) as the JSONCompactEachRow
 * lines decodeRow made (eventRowLine.ts), with their deduplication token: the lines' bytes
 * concatenated, one copy, no string of the batch on the V8 heap.
 */
export function eventRowInserter(
  storage: Storage,
  table: string,
): (rows: readonly { readonly line: Buffer }[], deduplicationToken: string) => Promise<void> {
  const insert = bytesInserter(
    storage,
    `INSERT INTO ${table} (${eventRowColumns.join(', ')}) FORMAT ${eventRowFormat}`,
  )
  return (rows, token) =>
    insert(
      Buffer.concat(
        rows.map((row) => row.line),
        rows.reduce((bytes, row) => bytes + row.line.length, 0),
      ),
      token,
    )
}

/**
 * `statement` with `payload` as its rows. `exec` with the rows as bytes: `insert` would serialise
 * row objects itself, and refuses a byte stream for JSON formats. The same statement on both
 * transports (embedded, it is the raw insert of packages/storage: the bytes go to ClickHouse's
 * parser as they are); the response is drained.
 */
function bytesInserter(
  storage: Storage,
  statement: string,
): (payload: Buffer, deduplicationToken: string) => Promise<void> {
  return async (payload, token) => {
    const { stream } = await storage.client.exec({
      query: statement,
      values: Readable.from([payload], { objectMode: false }),
      clickhouse_settings: {
        insert_deduplication_token: token,
        // The views' tables deduplicate a retried batch too (the default only from ClickHouse 26.2).
        deduplicate_blocks_in_dependent_materialized_views: 1,
      },
    })
    await drainStream(stream)
  }
}
