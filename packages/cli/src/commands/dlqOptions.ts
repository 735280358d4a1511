import type { DeadLetterFilter } from '@audit-pipeline/dead-letter'
import {
  optionalFieldKeysLocation,
  type FieldKeysFlags,
  type FieldKeysLocation,
  type RunningStack,
} from './fieldKeysOptions.js'

/** `dlq list` flags as commander hands them over: strings, unchecked. */
export type DlqListFlags = DlqFilterFlags & FieldKeysFlags & { topic: string; limit: string; json?: boolean }

/** `dlq replay` flags as commander hands them over. */
export type DlqReplayFlags = DlqFilterFlags &
  FieldKeysFlags & {
    topic: string
    to?: string
    dryRun?: boolean
    fromStart?: boolean
  }

export type DlqFilterFlags = { class?: string; sourceTopic?: string; service?: string; since?: string }

export type DlqListOptions = {
  topic: string
  filter: DeadLetterFilter
  limit: number
  json: boolean
  /** The key store sealed dead letters are opened with; without it they are listed sealed. */
  fieldKeys?: FieldKeysLocation
}

export type DlqReplayOptions = {
  topic: string
  filter: DeadLetterFilter
  to?: string
  dryRun: boolean
  fromStart: boolean
  /** The key store sealed dead letters are opened with; without it, a sealed one stops the replay. */
  fieldKeys?: FieldKeysLocation
}

/**
 * Where the key store may be named besides `--keys-dir` and `--kek-file`: FIELD_KEYS_DIR and
 * FIELD_KEYS_KEK_FILE in `env`, else the running `npm start`'s pipeline.json, as `erase` finds it.
 */
export type FieldKeysSources = { env: Record<string, string | undefined>; running: RunningStack; cwd: string }

/** No environment, no npm start: only the flags name a key store. */
const flagsOnly: FieldKeysSources = {
  env: {},
  running: { stateDir: '.stack', fieldKeys: undefined },
  cwd: process.cwd(),
}

/** Checks `dlq list` flags; throws naming the option and what it accepts. */
export function parseDlqListFlags(flags: DlqListFlags, keysFrom = flagsOnly): DlqListOptions {
  const fieldKeys = fieldKeysOf(flags, keysFrom)
  return {
    topic: topicName('--topic', flags.topic),
    filter: filterOf(flags),
    limit: positiveInteger('--limit', flags.limit),
    json: flags.json ?? false,
    ...(fieldKeys && { fieldKeys }),
  }
}

/** Checks `dlq replay` flags; throws naming the option and what it accepts. */
export function parseDlqReplayFlags(flags: DlqReplayFlags, keysFrom = flagsOnly): DlqReplayOptions {
  const fieldKeys = fieldKeysOf(flags, keysFrom)
  return {
    topic: topicName('--topic', flags.topic),
    filter: filterOf(flags),
    ...(flags.to !== undefined && { to: topicName('--to', flags.to) }),
    dryRun: flags.dryRun ?? false,
    fromStart: flags.fromStart ?? false,
    ...(fieldKeys && { fieldKeys }),
  }
}

function fieldKeysOf(flags: FieldKeysFlags, { env, running, cwd }: FieldKeysSources) {
  return optionalFieldKeysLocation(flags, env, running, cwd)
}

function filterOf(flags: DlqFilterFlags): DeadLetterFilter {
  return {
    ...(flags.class !== undefined && { errorClass: nonEmpty('--class', flags.class) }),
    ...(flags.sourceTopic !== undefined && { sourceTopic: topicName('--source-topic', flags.sourceTopic) }),
    ...(flags.service !== undefined && { service: nonEmpty('--service', flags.service) }),
    ...(flags.since !== undefined && { failedSince: isoTime('--since', flags.since) }),
  }
}

function topicName(option: string, value: string): string {
  // Kafka's own rule for topic names.
  if (/^[A-Za-z0-9._-]{1,249}$/.test(value)) return value
  throw new Error(`${option} must be a Kafka topic name (letters, digits, '.', '_' and '-'); got '${value}'`)
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

/**
 * A date (midnight UTC) or a time with its zone: a time without one would be read in the local
 * zone of whoever runs the command, and select different dead letters on another machine.
 */
function isoTime(option: string, value: string): Date {
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
