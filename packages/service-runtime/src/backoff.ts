/** Exponential backoff: the ceiling starts at `initialDelayMs` and grows by `multiplier` up to `maxDelayMs`. */
export type BackoffPolicy = {
  readonly initialDelayMs: number
  readonly maxDelayMs: number
  readonly multiplier: number
}

export const defaultBackoffPolicy: BackoffPolicy = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 30_000,
  multiplier: 2,
})

/**
 * The wait before retry number `attempt` (0 for the wait after the first failure): a uniformly
 * random delay below the exponential ceiling ("full jitter"), so clients that failed together do
 * not retry together.
 */
export function backoffDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  // min() also covers multiplier ** attempt overflowing to Infinity after many attempts.
  const ceilingMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** attempt)
  return random() * ceilingMs
}
