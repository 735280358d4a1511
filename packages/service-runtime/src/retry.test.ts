import { describe, expect, it, vi } from 'vitest'
import { retryWithBackoff } from './retry.js'

class Transient extends Error {}
class Final extends Error {}

const isRetriable = (error: unknown) => error instanceof Transient
const policy = { initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2 }

function recordingSleep() {
  const delaysMs: number[] = []
  const sleep = vi.fn((delayMs: number, _signal?: AbortSignal) => {
    delaysMs.push(delayMs)
    return Promise.resolve()
  })
  return { delaysMs, sleep }
}

describe('retryWithBackoff', () => {
  it('retries retriable failures with growing backoff until the operation succeeds', async () => {
    const { delaysMs, sleep } = recordingSleep()
    const onRetry = vi.fn()
    const attempts: number[] = []
    const result = await retryWithBackoff(
      (attempt) => {
        attempts.push(attempt)
        return attempt < 2 ? Promise.reject(new Transient(`try ${attempt}`)) : Promise.resolve('done')
      },
      { isRetriable, policy, sleep, onRetry, random: () => 0.5 },
    )
    expect(result).toBe('done')
    expect(attempts).toEqual([0, 1, 2])
    expect(delaysMs).toEqual([50, 100])
    expect(onRetry.mock.calls).toEqual([
      [new Transient('try 0'), 0, 50],
      [new Transient('try 1'), 1, 100],
    ])
  })

  it('rethrows a non-retriable error at once', async () => {
    const { sleep } = recordingSleep()
    const final = new Final('rejected')
    const operation = vi.fn(() => Promise.reject(final))
    await expect(retryWithBackoff(operation, { isRetriable, policy, sleep })).rejects.toBe(final)
    expect(operation).toHaveBeenCalledTimes(1)
    expect(sleep).not.toHaveBeenCalled()
  })

  it('stops after maxAttempts and rethrows the last error', async () => {
    const { sleep } = recordingSleep()
    const errors = [new Transient('a'), new Transient('b'), new Transient('c'), new Transient('d')]
    const operation = vi.fn((attempt: number) =>
      Promise.reject(errors[attempt] ?? new Error(`unexpected attempt ${attempt}`)),
    )
    await expect(retryWithBackoff(operation, { isRetriable, policy, sleep, maxAttempts: 3 })).rejects.toBe(
      errors[2],
    )
    expect(operation).toHaveBeenCalledTimes(3)
    expect(sleep).toHaveBeenCalledTimes(2)
  })

  it('rejects a maxAttempts below 1', async () => {
    const operation = vi.fn(() => Promise.resolve(1))
    await expect(retryWithBackoff(operation, { isRetriable, policy, maxAttempts: 0 })).rejects.toThrow(
      RangeError,
    )
    expect(operation).not.toHaveBeenCalled()
  })

  it('stops waiting as soon as the signal aborts and rethrows the last error', async () => {
    const controller = new AbortController()
    const failure = new Transient('unavailable')
    let retryScheduled!: () => void
    const scheduled = new Promise<void>((resolve) => (retryScheduled = resolve))
    const operation = vi.fn(() => Promise.reject(failure))
    // A minute-long wait on the real timer: only the abort can end it within the test.
    const retrying = retryWithBackoff(operation, {
      isRetriable,
      policy: { initialDelayMs: 60_000, maxDelayMs: 60_000, multiplier: 1 },
      random: () => 1,
      signal: controller.signal,
      onRetry: () => retryScheduled(),
    })
    await scheduled
    const abortedAt = performance.now()
    controller.abort(new Error('shutting down'))
    await expect(retrying).rejects.toBe(failure)
    expect(performance.now() - abortedAt).toBeLessThan(1_000)
    expect(operation).toHaveBeenCalledTimes(1)
  })

  it('passes the signal to an injected sleep', async () => {
    const { sleep } = recordingSleep()
    const { signal } = new AbortController()
    let calls = 0
    await retryWithBackoff(() => (calls++ === 0 ? Promise.reject(new Transient()) : Promise.resolve()), {
      isRetriable,
      policy,
      sleep,
      signal,
    })
    expect(sleep.mock.calls[0]?.[1]).toBe(signal)
  })

  it('does not start when the signal is already aborted', async () => {
    const reason = new Error('shutting down')
    const operation = vi.fn(() => Promise.resolve(1))
    await expect(
      retryWithBackoff(operation, { isRetriable, policy, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
    expect(operation).not.toHaveBeenCalled()
  })
})
