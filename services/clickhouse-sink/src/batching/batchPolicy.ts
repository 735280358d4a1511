/** When a batch is written: whichever limit it reaches first. */
export type BatchPolicy = {
  /** Rows per insert. */
  maxRows: number
  /** Approximate bytes of the rows held (their JSON size). */
  maxBytes: number
  /** Age of the oldest row, ms: bounds the time from produce to queryable at low rates. */
  maxAgeMs: number
}

export type BatchFill = { rows: number; bytes: number; ageMs: number }

export type FlushReason = 'rows' | 'bytes' | 'age'

/** Why the batch should be written now, or undefined to keep filling it. An empty batch never is. */
export function flushReason(fill: BatchFill, policy: BatchPolicy): FlushReason | undefined {
  if (fill.rows === 0) return undefined
  if (fill.rows >= policy.maxRows) return 'rows'
  if (fill.bytes >= policy.maxBytes) return 'bytes'
  if (fill.ageMs >= policy.maxAgeMs) return 'age'
  return undefined
}
