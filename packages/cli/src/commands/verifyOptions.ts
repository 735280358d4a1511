import { isAbsolute, resolve } from 'node:path'
import { defaultCheckpointTopic } from '@audit-pipeline/verification'
import { flagProblems } from './flagProblems.js'

/** `verify` flags as commander hands them over: strings, unchecked. */
export type VerifyFlags = {
  tenant?: string
  since?: string
  until?: string
  publicKeys?: string
  checkpointsTopic?: string
  checkpointGraceMs?: string
  threads?: string
  json?: boolean
}

export type VerifyOptions = {
  tenant?: string
  since?: Date
  until?: Date
  /** The published public keys document, and where that choice came from. */
  publicKeys: { path: string; origin: '--public-keys' | 'the local stack' }
  /** The checkpoints topic to compare storage with; null: not compared, and why. */
  checkpointTopic: { topic: string } | { topic: null; why: string }
  checkpointGraceMs: number
  threads?: number
  json: boolean
}

/** The sink's checkpoint interval when SINK_CHECKPOINT_INTERVAL_MS is unset (its config's default). */
export const defaultCheckpointIntervalMs = 60_000

/**
 * Checks `verify`'s flags against the environment; throws naming the flag or variable and what it
 * accepts. `localPublicKeysFile` is the local stack's published keys, used when it exists.
 */
export function parseVerifyFlags(
  flags: VerifyFlags,
  env: Record<string, string | undefined>,
  localPublicKeysFile: { path: string; exists: boolean },
  cwd = process.cwd(),
): VerifyOptions {
  const { problems, attempt } = flagProblems()
  const tenant = flags.tenant === undefined ? undefined : attempt(() => nonEmpty('--tenant', flags.tenant!))
  const since = flags.since === undefined ? undefined : attempt(() => isoTime('--since', flags.since!))
  const until = flags.until === undefined ? undefined : attempt(() => isoTime('--until', flags.until!))
  if (since !== undefined && until !== undefined && since.getTime() >= until.getTime()) {
    problems.push(`--since (${flags.since}) must be before --until (${flags.until})`)
  }
  let publicKeys: VerifyOptions['publicKeys'] | undefined
  if (flags.publicKeys !== undefined) {
    const path = attempt(() => nonEmpty('--public-keys', flags.publicKeys!))
    if (path !== undefined)
      publicKeys = { path: isAbsolute(path) ? path : resolve(cwd, path), origin: '--public-keys' }
  } else if (localPublicKeysFile.exists) {
    publicKeys = { path: localPublicKeysFile.path, origin: 'the local stack' }
  } else {
    problems.push(
      `--public-keys is required: the published public keys document checkpoints are verified with (\`audit-pipeline keys public\` makes one); the local stack's, ${localPublicKeysFile.path}, does not exist`,
    )
  }
  const topic =
    flags.checkpointsTopic === undefined
      ? undefined
      : attempt(() => topicName('--checkpoints-topic', flags.checkpointsTopic!))
  const checkpointTopic: VerifyOptions['checkpointTopic'] =
    topic !== undefined
      ? { topic }
      : env['KAFKA_BROKERS']?.trim()
        ? { topic: env['SINK_CHECKPOINT_TOPIC']?.trim() || defaultCheckpointTopic }
        : {
            topic: null,
            why: 'KAFKA_BROKERS is not set and no --checkpoints-topic was given',
          }
  const grace =
    flags.checkpointGraceMs !== undefined
      ? attempt(() => positiveInteger('--checkpoint-grace-ms', flags.checkpointGraceMs!))
      : attempt(() => defaultGraceMs(env))
  const threads =
    flags.threads === undefined ? undefined : attempt(() => nonNegativeInteger('--threads', flags.threads!))
  if (problems.length > 0 || publicKeys === undefined || grace === undefined)
    throw new Error(problems.join('; '))
  return {
    ...(tenant !== undefined && { tenant }),
    ...(since !== undefined && { since }),
    ...(until !== undefined && { until }),
    publicKeys,
    checkpointTopic,
    checkpointGraceMs: grace,
    ...(threads !== undefined && { threads }),
    json: flags.json ?? false,
  }
}

/**
 * How long an entry may wait for its checkpoint before its absence is a finding: twice the sink's
 * interval (SINK_CHECKPOINT_INTERVAL_MS, as the sink reads it) plus a minute, for the sink's
 * polling and a batch in flight.
 */
export function defaultGraceMs(env: Record<string, string | undefined>): number {
  const set = env['SINK_CHECKPOINT_INTERVAL_MS']?.trim()
  const interval = set ? positiveInteger('SINK_CHECKPOINT_INTERVAL_MS', set) : defaultCheckpointIntervalMs
  return 2 * interval + 60_000
}

function nonEmpty(option: string, value: string): string {
  if (value.trim() !== '') return value
  throw new Error(`${option} must not be empty`)
}

function positiveInteger(option: string, value: string): number {
  const number = Number(value)
  if (/^\d+$/.test(value) && Number.isSafeInteger(number) && number > 0) return number
  throw new Error(`${option} must be a positive integer; got '${value}'`)
}

function nonNegativeInteger(option: string, value: string): number {
  const number = Number(value)
  if (/^\d+$/.test(value) && Number.isSafeInteger(number)) return number
  throw new Error(`${option} must be a whole number (0: no worker threads); got '${value}'`)
}

function topicName(option: string, value: string): string {
  // Kafka's own rule for topic names.
  if (/^[A-Za-z0-9._-]{1,249}$/.test(value)) return value
  throw new Error(`${option} must be a Kafka topic name (letters, digits, '.', '_' and '-'); got '${value}'`)
}

/**
 * A date (midnight UTC) or a time with its zone: a time without one would be read in the local
 * zone of whoever runs the command, and verify another range on another machine.
 */
export function isoTime(option: string, value: string): Date {
  const form = /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:[0-5]\d))?$/
  const [, year, month, day] = form.exec(value) ?? []
  // Date.parse rolls 2026-02-30 over to March 2 instead of refusing it.
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  if (year !== undefined && date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day)) {
    return new Date(Date.parse(value))
  }
  throw new Error(
    `${option} must be an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z; got '${value}'`,
  )
}
