import { createHash } from 'node:crypto'
import type { BatchRow } from '../batching/sinkBatch.js'

/**
 * An insert's `insert_deduplication_token`: a hash of where each of its rows was read from (topic,
 * partition, offset) and which event it is. An insert retried after a timeout (which ClickHouse
 * may have applied) carries the same rows, so the same token, and is stored once; each half of a
 * bisected batch has rows of its own, so a token of its own.
 *
 * The event id is part of it because offsets alone do not name a record: a topic deleted and
 * created again starts at offset 0, and its first batch would carry the token of the old topic's
 * first batch, which ClickHouse (keeping the last `non_replicated_deduplication_window` tokens)
 * would drop as a repeat.
 */
export function deduplicationToken(rows: readonly Pick<BatchRow, 'record' | 'eventId'>[]): string {
  const hash = createHash('sha256')
  for (const { record, eventId } of rows) {
    hash.update(`${record.topic}\u0000${record.partition}\u0000${record.offset}\u0000${eventId}\n`)
  }
  return `audit-sink-${hash.digest('hex')}`
}
