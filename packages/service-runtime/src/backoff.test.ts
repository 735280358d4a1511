import { describe, expect, it } from 'vitest'
import { backoffDelayMs, defaultBackoffPolicy } from './backoff.js'

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2 }

describe('backoffDelayMs', () => {
  it('grows the ceiling by the multiplier and caps it at maxDelayMs', () => {
    const ceilings = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, () => 1))
    expect(ceilings).toEqual([100, 200, 400, 800, 1_000, 1_000])
  })

  it('draws the delay uniformly below the ceiling', () => {
    expect(backoffDelayMs(2, policy, () => 0)).toBe(0)
    expect(backoffDelayMs(2, policy, () => 0.25)).toBe(100)
    expect(backoffDelayMs(9, policy, () => 0.5)).toBe(500)
  })

  it('stays within [0, maxDelayMs] for any attempt and random value', () => {
    for (const attempt of [0, 1, 10, 100, 2_000]) {
      for (const r of [0, 0.001, 0.5, 0.999_999]) {
        const delayMs = backoffDelayMs(attempt, policy, () => r)
        expect(delayMs).toBeGreaterThanOrEqual(0)
        expect(delayMs).toBeLessThan(policy.maxDelayMs)
      }
    }
    // 2 ** 2000 is Infinity: the cap must still hold.
    expect(backoffDelayMs(2_000, policy, () => 1)).toBe(1_000)
  })

  it('uses Math.random by default', () => {
    const delayMs = backoffDelayMs(0, policy)
    expect(delayMs).toBeGreaterThanOrEqual(0)
    expect(delayMs).toBeLessThan(100)
  })

  it('has a default policy that starts small and is capped', () => {
    expect(defaultBackoffPolicy.initialDelayMs).toBeLessThan(defaultBackoffPolicy.maxDelayMs)
    expect(defaultBackoffPolicy.multiplier).toBeGreaterThan(1)
    expect(Object.isFrozen(defaultBackoffPolicy)).toBe(true)
  })
})
