import { describe, expect, it } from 'vitest'
import { DeliveryError } from './deliveryError.js'
import { BreakerOpenError, deliverWithRetries } from './deliverWithRetries.js'

const policy = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000 }
const unavailable = () => new DeliveryError('DESTINATION_UNAVAILABLE', 'HTTP 503', { reason: 'HTTP_503' })

function harness() {
  const waits: number[] = []
  return {
    waits,
    sleep: (delayMs: number) => {
      waits.push(delayMs)
      return Promise.resolve()
    },
  }
}

const passThrough = (attempt: () => Promise<void>) => attempt()

describe('deliverWithRetries', () => {
  it('retries retriable failures and reports delivery', async () => {
    const { waits, sleep } = harness()
    let calls = 0
    const outcome = await deliverWithRetries(
      () => (++calls < 3 ? Promise.reject(unavailable()) : Promise.resolve()),
      {
        policy,
        guard: passThrough,
        breakerWaitMs: 500,
        signal: new AbortController().signal,
        sleep,
        random: () => 0.5,
      },
    )
    expect(outcome).toEqual({ delivered: true, attempts: 3 })
    expect(waits).toEqual([50, 100])
  })

  it('gives up after the budget with the last error', async () => {
    const { sleep } = harness()
    const retried: number[] = []
    const outcome = await deliverWithRetries(() => Promise.reject(unavailable()), {
      policy,
      guard: passThrough,
      breakerWaitMs: 500,
      signal: new AbortController().signal,
      sleep,
      onRetry: (_, attempt) => retried.push(attempt),
    })
    expect(outcome).toMatchObject({
      delivered: false,
      attempts: 3,
      error: { code: 'DESTINATION_UNAVAILABLE', reason: 'HTTP_503' },
    })
    expect(!outcome.delivered && outcome.error.message).toBe('HTTP 503 (gave up after 3 attempts)')
    expect(retried).toEqual([1, 2])
  })

  it('stops at once on a final error', async () => {
    const { waits, sleep } = harness()
    const outcome = await deliverWithRetries(
      () => Promise.reject(new DeliveryError('DESTINATION_REJECTED', 'HTTP 400', { reason: 'HTTP_400' })),
      { policy, guard: passThrough, breakerWaitMs: 500, signal: new AbortController().signal, sleep },
    )
    expect(outcome).toMatchObject({ delivered: false, attempts: 1, error: { code: 'DESTINATION_REJECTED' } })
    expect(waits).toEqual([])
  })

  it('classifies network errors: a refused connection is retried', async () => {
    const { sleep } = harness()
    let calls = 0
    const outcome = await deliverWithRetries(
      () =>
        ++calls === 1
          ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
          : Promise.resolve(),
      { policy, guard: passThrough, breakerWaitMs: 500, signal: new AbortController().signal, sleep },
    )
    expect(outcome).toEqual({ delivered: true, attempts: 2 })
  })

  it('waits while the breaker is open without spending attempts', async () => {
    const { waits, sleep } = harness()
    let refusals = 5
    const guard = (attempt: () => Promise<void>) =>
      refusals-- > 0 ? Promise.reject(new BreakerOpenError('open')) : attempt()
    const outcome = await deliverWithRetries(() => Promise.resolve(), {
      policy,
      guard,
      breakerWaitMs: 700,
      signal: new AbortController().signal,
      sleep,
    })
    expect(outcome).toEqual({ delivered: true, attempts: 1 })
    expect(waits).toEqual([700, 700, 700, 700, 700])
  })

  it('rethrows when stopped, so the batch is neither delivered nor dead-lettered', async () => {
    const stop = new AbortController()
    const sleep = () => {
      stop.abort()
      return Promise.reject(new Error('aborted'))
    }
    await expect(
      deliverWithRetries(() => Promise.reject(unavailable()), {
        policy,
        guard: passThrough,
        breakerWaitMs: 1,
        signal: stop.signal,
        sleep,
      }),
    ).rejects.toThrow('aborted')
  })
})
