export type WaitForOptions = {
  /** Give up after this long; the error names `description`. */
  timeoutMs: number
  /** Pause between attempts. */
  intervalMs?: number
  /** What is being waited for, for the timeout message. */
  description?: string
}

/**
 * Polls `probe` until it returns a value other than `undefined`/`false`, or throws once the
 * deadline passes. This is the only way tests wait: never a fixed sleep.
 * A probe that throws counts as "not yet"; the last error is kept as the timeout's cause.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs, intervalMs = 50, description = 'condition' }: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`, {
        cause: lastError,
      })
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
