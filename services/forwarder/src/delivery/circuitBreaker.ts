import CircuitBreaker from 'opossum'
import type { BreakerSettings } from '../destinations/destination.js'
import { DeliveryError } from './deliveryError.js'
import { BreakerOpenError } from './deliverWithRetries.js'

export const breakerStates = { closed: 0, halfOpen: 1, open: 2 } as const
export type BreakerState = keyof typeof breakerStates

export type Breaker = {
  guard(attempt: () => Promise<void>): Promise<void>
  state(): BreakerState
  shutdown(): void
}

/**
 * One destination's circuit breaker (opossum): after enough failed attempts in its rolling
 * window it opens, and attempts are refused at once instead of each waiting out a timeout; after
 * `resetTimeoutMs` one attempt decides whether it closes. Only failures that say the destination
 * is unwell count (retriable ones: 5xx, timeouts, resets); a 400 means it is up and answering.
 * Shared by the destination's partitions, so it sees all of its traffic.
 */
export function createBreaker(
  settings: BreakerSettings,
  onStateChange: (state: BreakerState) => void,
): Breaker {
  const breaker = new CircuitBreaker((attempt: () => Promise<void>) => attempt(), {
    timeout: false,
    errorThresholdPercentage: settings.errorThresholdPercent,
    volumeThreshold: settings.volumeThreshold,
    resetTimeout: settings.resetTimeoutMs,
    errorFilter: (error: unknown) => error instanceof DeliveryError && !error.retriable,
  })
  breaker.on('open', () => onStateChange('open'))
  breaker.on('halfOpen', () => onStateChange('halfOpen'))
  breaker.on('close', () => onStateChange('closed'))
  return {
    async guard(attempt) {
      try {
        await breaker.fire(attempt)
      } catch (error) {
        if ((error as { code?: unknown }).code === 'EOPENBREAKER')
          throw new BreakerOpenError('circuit breaker open')
        throw error
      }
    },
    state: () => (breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed'),
    shutdown: () => breaker.shutdown(),
  }
}
