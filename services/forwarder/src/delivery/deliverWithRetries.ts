import { setTimeout as sleepFor } from 'node:timers/promises'
import { DeliveryError } from './deliveryError.js'
import { networkFailure } from './httpOutcome.js'
import { retryDecision, type RetryPolicy } from './retryPolicy.js'

/** Thrown by a guard (the circuit breaker) instead of running the attempt. */
export class BreakerOpenError extends Error {
  override readonly name = 'BreakerOpenError'
}

export type DeliveryOutcome =
  { delivered: true; attempts: number } | { delivered: false; attempts: number; error: DeliveryError }

export type DeliverOptions = {
  policy: RetryPolicy
  /** Runs one attempt, or throws BreakerOpenError without running it. */
  guard: (attempt: () => Promise<void>) => Promise<void>
  /** How long to wait when the breaker is open before asking again, ms. */
  breakerWaitMs: number
  /** Aborting stops waiting and rethrows: the batch is neither delivered nor dead-lettered. */
  signal: AbortSignal
  sleep?: (delayMs: number, signal: AbortSignal) => Promise<void>
  random?: () => number
  onRetry?: (error: DeliveryError, attempt: number, delayMs: number) => void
}

const abortableSleep = async (delayMs: number, signal: AbortSignal) => {
  await sleepFor(delayMs, undefined, { signal })
}

/**
 * Sends one batch until it is delivered, fails for good (a final error, or the retry budget
 * spent), or `signal` aborts. Waits while the breaker is open do not spend the budget: only
 * attempts that reached out count, so an open breaker delays a batch but does not by itself send
 * it to the dead-letter topic.
 */
export async function deliverWithRetries(
  send: () => Promise<void>,
  options: DeliverOptions,
): Promise<DeliveryOutcome> {
  const { policy, signal, sleep = abortableSleep } = options
  let attempts = 0
  for (;;) {
    signal.throwIfAborted()
    try {
      await options.guard(async () => {
        attempts++
        await send()
      })
      return { delivered: true, attempts }
    } catch (thrown) {
      if (thrown instanceof BreakerOpenError) {
        await sleep(options.breakerWaitMs, signal)
        continue
      }
      if (signal.aborted) throw thrown
      const error = thrown instanceof DeliveryError ? thrown : networkFailure(thrown)
      const decision = retryDecision(error, attempts, policy, options.random)
      if (!decision.retry) {
        const spent = decision.why === 'budget spent' ? ` (gave up after ${attempts} attempts)` : ''
        return {
          delivered: false,
          attempts,
          error: new DeliveryError(error.code, `${error.message}${spent}`, {
            reason: error.reason,
            cause: error,
          }),
        }
      }
      options.onRetry?.(error, attempts, decision.delayMs)
      await sleep(decision.delayMs, signal)
    }
  }
}
