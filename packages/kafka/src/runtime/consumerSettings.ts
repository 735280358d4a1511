import { z } from 'zod'
import { envValues } from '@audit-pipeline/config'
import { defaultDeadLetterGuard, type DeadLetterGuardSettings } from './deadLetterGuard.js'
import { defaultOutageSettings, type OutageSettings } from './consumerRuntime.js'

const share = z
  .string()
  .trim()
  .regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'expected a share from 0 to 1, e.g. 0.5')
  .transform(Number)
  .refine((n) => n > 0, 'expected a share above 0 and at most 1, e.g. 0.5')

/**
 * The consumer runtime's environment variables, the same in every service, for its schema to
 * spread into its `z.object({ ...consumerEnvShape, … })`.
 */
export const consumerEnvShape = {
  /**
   * How long Kafka (or a step's outage) may go on failing before the service gives up and exits,
   * ms; 0 never gives up, waiting with capped backoff and reporting not-ready. Default 0.
   */
  KAFKA_OUTAGE_GIVE_UP_MS: envValues.wholeNumber('0').default(0),
  /** Input pauses when more than this share of a window's records was dead-lettered. Default 0.5. */
  DLQ_GUARD_MAX_SHARE: share.default(defaultDeadLetterGuard.maxShare),
  /** …and at least this many were, in the window. Default 1000. */
  DLQ_GUARD_MIN_RECORDS: envValues.positiveInt('1000').default(defaultDeadLetterGuard.minDeadLetters),
  /** The window the share is measured over, ms. Default 60000. */
  DLQ_GUARD_WINDOW_MS: envValues.positiveInt('60000').default(defaultDeadLetterGuard.windowMs),
  /** How long input stays paused once the guard tripped, ms; 0 until the service restarts. Default 600000. */
  DLQ_GUARD_PAUSE_MS: envValues.wholeNumber('600000').default(600_000),
}

export type ConsumerEnv = z.infer<z.ZodObject<typeof consumerEnvShape>>

export type ConsumerSettings = {
  outage: OutageSettings
  deadLetterGuard: DeadLetterGuardSettings & { pauseMs: number }
}

/** The runtime's settings from variables parsed with `consumerEnvShape`. */
export function consumerSettingsFrom(parsed: ConsumerEnv): ConsumerSettings {
  return {
    outage: { ...defaultOutageSettings, giveUpAfterMs: parsed.KAFKA_OUTAGE_GIVE_UP_MS },
    deadLetterGuard: {
      maxShare: parsed.DLQ_GUARD_MAX_SHARE,
      minDeadLetters: parsed.DLQ_GUARD_MIN_RECORDS,
      windowMs: parsed.DLQ_GUARD_WINDOW_MS,
      pauseMs: parsed.DLQ_GUARD_PAUSE_MS,
    },
  }
}
