import { retryWithBackoff, type Logger } from '@audit-pipeline/service-runtime'
import { defaultOutageSettings, type OutageSettings } from './consumerRuntime.js'
import { isTransientKafkaError } from './kafkaErrors.js'
import { isOutage } from './recordFailure.js'

/**
 * Runs start-up work against Kafka (connect, check or create topics), waiting out an unavailable
 * cluster with capped backoff instead of exiting: a service started before its broker, or during
 * a restart of it, comes up when Kafka does. Other errors (a missing topic, a refused password)
 * are thrown at once. Gives up after `outage.giveUpAfterMs` when that is above 0.
 */
export async function waitForKafka<T>(
  what: string,
  work: () => Promise<T>,
  options: { log: Logger; outage?: OutageSettings; signal?: AbortSignal; now?: () => number },
): Promise<T> {
  const outage = options.outage ?? defaultOutageSettings
  const now = options.now ?? Date.now
  const startedMs = now()
  return retryWithBackoff(work, {
    isRetriable: (error) =>
      isTransientKafkaError(error) && (outage.giveUpAfterMs <= 0 || now() - startedMs < outage.giveUpAfterMs),
    policy: outage.backoff,
    ...(options.signal && { signal: options.signal }),
    onRetry: (error, attempt, delayMs) =>
      options.log.warn(
        { err: error, attempt, delayMs: Math.round(delayMs) },
        `Kafka unavailable; waiting to ${what}`,
      ),
  })
}

/**
 * Runs start-up work against something that may be briefly away (the schema registry while the
 * codec loads its schema), waiting out outages (errors retriable by their own account, isOutage)
 * with capped backoff: a service started before its registry comes up with it instead of exiting.
 */
export async function waitOutOutage<T>(
  what: string,
  work: () => Promise<T>,
  options: { log: Logger; outage?: OutageSettings; signal?: AbortSignal },
): Promise<T> {
  return retryWithBackoff(work, {
    isRetriable: isOutage,
    policy: (options.outage ?? defaultOutageSettings).backoff,
    ...(options.signal && { signal: options.signal }),
    onRetry: (error, attempt, delayMs) =>
      options.log.warn(
        { err: error, attempt, delayMs: Math.round(delayMs) },
        `${what} unavailable; waiting to start`,
      ),
  })
}
