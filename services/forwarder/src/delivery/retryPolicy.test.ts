import { describe, expect, it } from 'vitest'
import { DeliveryError } from './deliveryError.js'
import { httpOutcome } from './httpOutcome.js'
import { parseRetryAfter, retryDecision } from './retryPolicy.js'

const policy = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 5_000 }
const unavailable = (retryAfterMs?: number) =>
  new DeliveryError('DESTINATION_UNAVAILABLE', 'HTTP 503', {
    reason: 'HTTP_503',
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  })

describe('retryDecision', () => {
  it('backs off exponentially with full jitter, then stops when the budget is spent', () => {
    const half = () => 0.5
    expect(retryDecision(unavailable(), 1, policy, half)).toEqual({ retry: true, delayMs: 50 })
    expect(retryDecision(unavailable(), 2, policy, half)).toEqual({ retry: true, delayMs: 100 })
    expect(retryDecision(unavailable(), 3, policy, half)).toEqual({ retry: true, delayMs: 200 })
    expect(retryDecision(unavailable(), 3, policy, () => 0)).toEqual({ retry: true, delayMs: 0 })
    expect(retryDecision(unavailable(), 4, policy, half)).toEqual({ retry: false, why: 'budget spent' })
  })

  it('caps the backoff at maxDelayMs', () => {
    const long = { ...policy, maxAttempts: 100 }
    expect(retryDecision(unavailable(), 30, long, () => 0.5)).toEqual({ retry: true, delayMs: 2_500 })
  })

  it('waits what Retry-After asks, up to maxDelayMs', () => {
    expect(retryDecision(unavailable(2_000), 1, policy)).toEqual({ retry: true, delayMs: 2_000 })
    expect(retryDecision(unavailable(60_000), 1, policy)).toEqual({ retry: true, delayMs: 5_000 })
  })

  it('never retries a final error', () => {
    const rejected = new DeliveryError('DESTINATION_REJECTED', 'HTTP 400', { reason: 'HTTP_400' })
    expect(retryDecision(rejected, 1, policy)).toEqual({ retry: false, why: 'final' })
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T10:00:00Z')
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-1', now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })
})

describe('httpOutcome', () => {
  const now = Date.parse('2026-03-01T10:00:00Z')
  it('takes 2xx as delivered', () => {
    expect(httpOutcome(200, undefined, '', now)).toBeUndefined()
    expect(httpOutcome(204, undefined, '', now)).toBeUndefined()
  })

  it('retries 5xx, 408 and 429, with Retry-After', () => {
    for (const status of [500, 502, 503, 504, 408, 429]) {
      const error = httpOutcome(status, undefined, 'busy', now)
      expect(error).toMatchObject({
        code: 'DESTINATION_UNAVAILABLE',
        retriable: true,
        reason: `HTTP_${status}`,
      })
    }
    expect(httpOutcome(429, '3', '', now)?.retryAfterMs).toBe(3_000)
  })

  it('does not retry other 4xx or redirects, and keeps the answer’s start in the message', () => {
    expect(httpOutcome(400, undefined, '{"text":"Invalid data format","code":6}', now)).toMatchObject({
      code: 'DESTINATION_REJECTED',
      retriable: false,
      message: 'HTTP 400 (refused): {"text":"Invalid data format","code":6}',
    })
    expect(httpOutcome(401, undefined, '', now)?.retriable).toBe(false)
    expect(httpOutcome(302, undefined, '', now)?.message).toMatch(/redirect, not followed/)
  })
})
