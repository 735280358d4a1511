import { z } from 'zod'
import { ConfigError, type ConfigProblem } from './configError.js'

function positiveInt(example: string) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, `expected a whole number, e.g. ${example}`)
    .transform(Number)
    .refine((n) => n > 0 && Number.isSafeInteger(n), `expected a whole number above 0, e.g. ${example}`)
}

/**
 * Value schemas every service's config.ts builds its variables from, so one kind of setting is
 * read, and its mistakes worded, the same way everywhere.
 */
export const envValues = {
  /** A whole number above 0; the example goes into the error. */
  positiveInt,
  /** A whole number, 0 included. */
  wholeNumber: (example: string) =>
    z.string().trim().regex(/^\d+$/, `expected a whole number, e.g. ${example}`).transform(Number),
  /** A consumer group session timeout, ms: within the broker's bounds (6000 to 300000 by default). */
  sessionTimeoutMs: () =>
    positiveInt('30000').refine(
      (ms) => ms >= 6_000 && ms <= 300_000,
      'expected 6000 to 300000 (the broker’s group session bounds)',
    ),
  /** `true` or `false`. */
  flag: () => z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true'),
  /** One Kafka topic name. */
  kafkaTopic: () =>
    z.string().trim().regex(kafkaTopicName, 'expected a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)'),
  /** Comma-separated Kafka topic names. */
  kafkaTopics: () =>
    z
      .string()
      .transform((value) => value.split(',').map((topic) => topic.trim()))
      .refine((topics) => topics.every((topic) => kafkaTopicName.test(topic)), {
        message: 'expected comma-separated Kafka topic names (1 to 249 of a-z A-Z 0-9 . _ -)',
      }),
}

const kafkaTopicName = /^[A-Za-z0-9._-]{1,249}$/

/**
 * Runs one part of a config's parsing, adding its ConfigError's problems to `problems` instead of
 * throwing, so a service can report every bad setting at once. Other errors are thrown.
 */
export function collectProblems<T>(parse: () => T, problems: ConfigProblem[]): T | undefined {
  try {
    return parse()
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    problems.push(...error.problems)
    return undefined
  }
}

/**
 * `<prefix>SHUTDOWN_DEADLINE_MS` must stay below `<prefix>SESSION_TIMEOUT_MS`: a consumer still
 * finishing its batch past the session timeout is evicted from its group, and its partitions are
 * read again by another instance. Adds the problem to `problems`.
 */
export function checkShutdownDeadline(
  prefix: string,
  settings: { deadlineMs: number; sessionTimeoutMs: number },
  problems: ConfigProblem[],
): void {
  if (settings.deadlineMs < settings.sessionTimeoutMs) return
  problems.push({
    setting: `${prefix}SHUTDOWN_DEADLINE_MS`,
    message: `must be below ${prefix}SESSION_TIMEOUT_MS (${settings.sessionTimeoutMs} ms), or the group evicts the instance mid-shutdown`,
  })
}
