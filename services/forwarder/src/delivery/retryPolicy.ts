import { backoffDelayMs } from '@audit-pipeline/service-runtime'
import type { DeliveryError } from './deliveryError.js'

/** A destination's retry budget: attempts in all (the first included) and the waits between them. */
export type RetryPolicy = {
  maxAttempts: number
  initialDelayMs: number
  /** Longest wait between attempts; also caps what a `Retry-After` may ask for. */
  maxDelayMs: number
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; why: 'final' | 'budget spent' }

/**
 * Whether to try a batch again after `error` on attempt number `attemptsMade` (1 for the first),
 * and after how long: full-jitter exponential backoff, or what the destination asked for with
 * `Retry-After` (up to `maxDelayMs`) when it asked. Only errors marked retriable are retried: a
 * 400 will be a 400 next time too.
 */
export function retryDecision(
  error: DeliveryError,
  attemptsMade: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  if (!error.retriable) return { retry: false, why: 'final' }
  if (attemptsMade >= policy.maxAttempts) return { retry: false, why: 'budget spent' }
  if (error.retryAfterMs !== undefined) {
    return { retry: true, delayMs: Math.min(error.retryAfterMs, policy.maxDelayMs) }
  }
  const delayMs = backoffDelayMs(
    attemptsMade - 1,
    { initialDelayMs: policy.initialDelayMs, maxDelayMs: policy.maxDelayMs, multiplier: 2 },
    random,
  )
  return { retry: true, delayMs }
}

/**
 * `Retry-After` as ms from `nowMs`: delta-seconds (`120`) or an HTTP date. Undefined when absent
 * or unreadable (the backoff applies then); a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // Only the HTTP-date forms (RFC 9110): Date.parse would take "1" or "tomorrow" too.
  if (!/^[A-Za-z]{3},? \d{1,2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
