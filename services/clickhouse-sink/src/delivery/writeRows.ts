import { retryWithBackoff, type BackoffPolicy } from '@audit-pipeline/service-runtime'
import type { BatchRow } from '../batching/sinkBatch.js'
import { deduplicationToken } from './deduplicationToken.js'
import { insertFailure } from './insertFailure.js'

/** Inserts rows as one insert carrying the token; rejects with ClickHouse's error. */
export type RowInserter = (rows: readonly BatchRow[], deduplicationToken: string) => Promise<void>

export type RejectedRow = { row: BatchRow; reason: string }

export type WriteOptions = {
  backoff: BackoffPolicy
  /** Aborted on stop's deadline or a restart: stops retrying; the batch is then not committed and is read again. */
  signal: AbortSignal
  onRetry(error: unknown, attempt: number, delayMs: number): void
}

/**
 * Writes a batch: one insert, retried with backoff while ClickHouse is unavailable or slow (the
 * same token each time, so an insert that did land is not stored twice). When ClickHouse refuses
 * rows as data, the batch is halved until the refused rows are alone; every other row is written,
 * and the refused ones are returned with the server's reason, for the dead-letter topic.
 */
export async function writeRows(
  rows: readonly BatchRow[],
  insert: RowInserter,
  options: WriteOptions,
): Promise<RejectedRow[]> {
  if (rows.length === 0) return []
  try {
    await retryWithBackoff(() => insert(rows, deduplicationToken(rows)), {
      isRetriable: (error) => insertFailure(error) === 'retry',
      policy: options.backoff,
      signal: options.signal,
      onRetry: (error, attempt, delayMs) => options.onRetry(error, attempt, delayMs),
    })
    return []
  } catch (error) {
    if (insertFailure(error) !== 'rows-rejected') throw error
    const [only] = rows
    if (rows.length === 1 && only) return [{ row: only, reason: (error as Error).message }]
    const middle = Math.ceil(rows.length / 2)
    const rejected: RejectedRow[] = []
    for (const half of [rows.slice(0, middle), rows.slice(middle)]) {
      rejected.push(...(await writeRows(half, insert, options)))
    }
    return rejected
  }
}
