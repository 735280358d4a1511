import { Readable } from 'node:stream'
import { drainStream } from '@clickhouse/client'
import type { Storage } from '@audit-pipeline/storage'

/**
 * Inserts rows into `table` as JSONEachRow with their deduplication token. `exec` with the rows as
 * bytes: `insert` would serialise row objects itself, and refuses a byte stream for JSON formats.
 * The same statement on both transports; the response is drained.
 */
export function rowInserter(
  storage: Storage,
  table: string,
): (rows: readonly { readonly line: string }[], deduplicationToken: string) => Promise<void> {
  const statement = `INSERT INTO ${table} FORMAT JSONEachRow`
  return async (rows, token) => {
    const { stream } = await storage.client.exec({
      query: statement,
      values: Readable.from([Buffer.from(rows.map((row) => row.line).join(''))], { objectMode: false }),
      clickhouse_settings: {
        insert_deduplication_token: token,
        // The views' tables deduplicate a retried batch too (the default only from ClickHouse 26.2).
        deduplicate_blocks_in_dependent_materialized_views: 1,
      },
    })
    await drainStream(stream)
  }
}
