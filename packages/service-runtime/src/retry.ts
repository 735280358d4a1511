import { setTimeout as sleepFor } from 'node:timers/promises'
import { backoffDelayMs, type BackoffPolicy } from './backoff.js'

export type RetryOptions = {
  /** Whether another attempt can help. Required: retrying everything hides final errors. */
  isRetriable: (error: unknown) => boolean
  policy: BackoffPolicy
  /** Attempts in all, the first included. Default: no limit. */
  maxAttempts?: number
  /** Aborting stops waiting at once and rethrows the last error. */
  signal?: AbortSignal
  /** Called before each wait; `attempt` is the 0-based number of the attempt that just failed. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** Waits `delayMs`, rejecting when `signal` aborts. Default: a timer from node:timers/promises. */
  sleep?: (delayMs: number, signal?: AbortSignal) => Promise<void>
  random?: () => number
}

async function abortableSleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  await sleepFor(delayMs, undefined, signal && { signal })
}

/**
 * Runs `operation(attempt)` (attempt 0, 1, …) until it succeeds, waiting a jittered exponential
 * backoff between attempts. Rethrows the last error when it is not retriable, when attempts run
 * out, or when `signal` aborts (with nothing tried yet: the signal's reason).
 */
export async function retryWithBackoff<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy, signal, maxAttempts = Infinity, sleep = abortableSleep, random = Math.random } = options
  if (!(maxAttempts >= 1)) throw new RangeError(`maxAttempts must be at least 1, got ${maxAttempts}`)
  if (signal?.aborted) throw signal.reason
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt)
    } catch (error) {
      if (!options.isRetriable(error) || attempt + 1 >= maxAttempts) throw error
      const delayMs = backoffDelayMs(attempt, policy, random)
      options.onRetry?.(error, attempt, delayMs)
      try {
        await sleep(delayMs, signal)
      } catch (sleepError) {
        if (signal?.aborted) throw error
        throw sleepError
      }
      // An abort that lands as the timer fires: do not start another attempt.
      if (signal?.aborted) throw error
    }
  }
}
