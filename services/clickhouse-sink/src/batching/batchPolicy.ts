/** When a batch is written: whichever limit it reaches first (config.batch, SINK_BATCH_*). */
export type BatchPolicy = {
  /** Records per batch, so rows per insert at most. */
  maxRows: number
  /** Approximate bytes of the rows held (their JSON size). */
  maxBytes: number
  /** Age of the oldest record, ms: bounds the time from produce to queryable at low rates. */
  maxAgeMs: number
}

export type CloseReason = 'rows' | 'bytes' | 'age' | 'shutdown'

export type BatchFill = { records: number; ageMs: number; stopping: boolean }

/**
 * What closed a batch, for `audit_sink_batches_total{reason}`. The batching step closes a batch
 * when it holds maxRows records, when it grew old on a poll, on stop, or before a record would
 * take it past maxBytes: a batch that reached neither count nor age was closed by stop or bytes.
 */
export function closeReason(fill: BatchFill, policy: BatchPolicy): CloseReason {
  if (fill.records >= policy.maxRows) return 'rows'
  if (fill.ageMs >= policy.maxAgeMs) return 'age'
  return fill.stopping ? 'shutdown' : 'bytes'
}
