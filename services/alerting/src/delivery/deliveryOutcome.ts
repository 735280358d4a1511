import { backoffDelayMs, type BackoffPolicy } from '@audit-pipeline/service-runtime'

/** What one POST to a receiver came to. */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfter?: string | undefined }
  | { kind: 'timeout' }
  | { kind: 'network'; code: string }
  /** Not sent: the host resolves to `address`, which the receiver may not reach; `message` says so. */
  | { kind: 'refused'; address: string; message: string }

/**
 * - `delivered`: 2xx.
 * - `retry`: 5xx, 429, 408, a timeout or a network error: the receiver may recover.
 * - `rejected`: any other status (a 4xx: the request itself is wrong; sending it again will not help).
 * - `refused`: nothing was sent, the host resolves to an address the receiver may not reach; final,
 *   as the forwarder's DESTINATION_REFUSED: a retry would meet the same answer, and a DNS answer
 *   that changes is checked again on the next alert's connect.
 */
export type DeliveryDecision =
  | { outcome: 'delivered' }
  | { outcome: 'retry'; retryAfterMs?: number }
  | { outcome: 'rejected' }
  | { outcome: 'refused'; address: string; message: string }

export function decideDelivery(result: AttemptResult, nowMs: number): DeliveryDecision {
  if (result.kind === 'refused')
    return { outcome: 'refused', address: result.address, message: result.message }
  if (result.kind !== 'response') return { outcome: 'retry' }
  const { status } = result
  if (status >= 200 && status < 300) return { outcome: 'delivered' }
  if (status >= 500 || status === 429 || status === 408) {
    const retryAfterMs = parseRetryAfterMs(result.retryAfter, nowMs)
    return retryAfterMs === undefined ? { outcome: 'retry' } : { outcome: 'retry', retryAfterMs }
  }
  return { outcome: 'rejected' }
}

/** `Retry-After`: seconds, or an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1_000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/**
 * The wait before the next attempt: the receiver's Retry-After when it gave one (capped, so a
 * receiver cannot park deliveries for a day), else full-jitter exponential backoff.
 */
export function retryDelayMs(
  attempt: number,
  decision: { retryAfterMs?: number },
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  if (decision.retryAfterMs !== undefined) return Math.min(decision.retryAfterMs, policy.maxDelayMs)
  return backoffDelayMs(attempt, policy, random)
}
