import type { Storage } from '@audit-pipeline/storage'
import type { BatchPolicy } from '../batching/batchPolicy.js'

/** A row ClickHouse holds, as the stored-row check needs it: the offset it was read from and its event. */
export type StoredRow = { readonly offset: bigint; readonly eventId: string }

export type StoredRowsQuery = {
  readonly topic: string
  readonly partition: number
  /** The first offset about to be read: rows below it were committed, so are never read again. */
  readonly fromOffset: bigint
  readonly limit: number
}

/**
 * The rows of one partition stored at or after `fromOffset`, lowest offsets first, at most
 * `limit`. Asked when a partition's records do not continue where this generation of the steps
 * left off (the first record after a start, a restart or a rebalance).
 *
 * `kafka_offset` is not in the table's sorting key, so this reads the `kafka_*` columns of the
 * whole table (as the highest-offset lookup before it did): once per partition per restart.
 */
export async function readStoredRows(
  storage: Storage,
  table: string,
  query: StoredRowsQuery,
): Promise<StoredRow[]> {
  const result = await storage.client.query({
    query: `SELECT toString(kafka_offset) AS offset, toString(event_id) AS event_id FROM ${table}
            WHERE kafka_topic = {topic:String} AND kafka_partition = {partition:UInt32}
              AND kafka_offset >= {fromOffset:UInt64}
            ORDER BY kafka_offset LIMIT {limit:UInt32}`,
    query_params: {
      topic: query.topic,
      partition: query.partition,
      fromOffset: query.fromOffset.toString(),
      limit: query.limit,
    },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ offset: string; event_id: string }>()
  return rows.map((row) => ({ offset: BigInt(row.offset), eventId: row.event_id }))
}

/**
 * How many stored rows one look-up reads per partition. What is stored and not committed is at
 * most the batch written before a crash (one write at a time, committed before the next starts),
 * plus, after a rebalance, the batch the previous owner had in flight: two batches of at most
 * SINK_BATCH_MAX_ROWS records each. Rows past the limit (SINK_BATCH_MAX_ROWS lowered between
 * runs, or a recreated topic's old rows) are not skipped: they are written again and collapse
 * by event_id in `audit_events_deduplicated`. Nothing is lost by the limit.
 */
export function storedRowsLimit(policy: BatchPolicy): number {
  return 2 * policy.maxRows
}
