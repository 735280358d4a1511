import { retryWithBackoff, type BackoffPolicy } from '@audit-pipeline/service-runtime'
import { deduplicationToken, type BatchRow, type OffsetRange } from '../batching/pendingBatch.js'
import { insertFailure } from './insertFailure.js'

/** Inserts rows as one insert carrying the token; rejects with ClickHouse's error. */
export type RowInserter<Row> = (rows: Row[], deduplicationToken: string) => Promise<void>

export type RejectedRow<Row> = { row: BatchRow<Row>; reason: string }

export type WriteOptions = {
  backoff: BackoffPolicy
  /** Aborted on shutdown: stops retrying; the batch is then not committed and is read again. */
  signal: AbortSignal
  onRetry(error: unknown, attempt: number, delayMs: number): void
}

/**
 * Writes a batch: one insert, retried with backoff while ClickHouse is unavailable or slow (the
 * same token each time, so an insert that did land is not stored twice). When ClickHouse refuses
 * rows as data, the batch is halved until the refused rows are alone; every other row is written,
 * and the refused ones are returned with the server's reason, for the dead-letter topic.
 */
export async function writeRows<Row>(
  rows: readonly BatchRow<Row>[],
  ranges: readonly OffsetRange[],
  insert: RowInserter<Row>,
  options: WriteOptions,
): Promise<RejectedRow<Row>[]> {
  if (rows.length === 0) return []
  return write(rows, deduplicationToken(ranges), insert, options, ranges)
}

async function write<Row>(
  rows: readonly BatchRow<Row>[],
  token: string,
  insert: RowInserter<Row>,
  options: WriteOptions,
  ranges: readonly OffsetRange[],
): Promise<RejectedRow<Row>[]> {
  try {
    await retryWithBackoff(
      () =>
        insert(
          rows.map((r) => r.row),
          token,
        ),
      {
        isRetriable: (error) => insertFailure(error) === 'retry',
        policy: options.backoff,
        signal: options.signal,
        onRetry: (error, attempt, delayMs) => options.onRetry(error, attempt, delayMs),
      },
    )
    return []
  } catch (error) {
    if (insertFailure(error) !== 'rows-rejected') throw error
    const [only] = rows
    if (rows.length === 1 && only) return [{ row: only, reason: (error as Error).message }]
    const middle = Math.ceil(rows.length / 2)
    const halves = [rows.slice(0, middle), rows.slice(middle)]
    const rejected: RejectedRow<Row>[] = []
    for (const half of halves) {
      const halfToken = deduplicationToken(
        ranges,
        half.map((r) => `${r.topic}/${r.partition}/${r.offset}`),
      )
      rejected.push(...(await write(half, halfToken, insert, options, ranges)))
    }
    return rejected
  }
}
