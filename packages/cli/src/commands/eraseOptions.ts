import { userInfo } from 'node:os'
import { isAbsolute, resolve } from 'node:path'
import { defaultNormalizerGroupId, pipelineTopics } from '@audit-pipeline/config'
import { defaultProducerTopic } from '@audit-pipeline/producer'

/** `erase` flags as commander hands them over: strings, unchecked. */
export type EraseFlags = {
  tenant: string
  subject: string
  reason?: string
  actor?: string
  keysDir?: string
  kekFile?: string
  /** Repeated `--input-topic`; empty when none was given. */
  inputTopic: string[]
  normalizerGroup?: string
  eventsTopic?: string
  json?: boolean
}

/** Where the key store is, and which setting said so (what errors name). */
export type FieldKeysLocation = {
  directory: { path: string; setting: string }
  kekFile: { path: string; setting: string }
}

export type EraseOptions = {
  tenant: string
  /** Used for the erasure only: never printed, never recorded. */
  subject: string
  reason?: string
  actorId: string
  fieldKeys: FieldKeysLocation
  /** Where the erasure event is produced: the topic `produce` sends to. */
  eventsTopic: string
  /** The topics whose records the normalizer has handled are removed. */
  inputTopics: string[]
  normalizerGroup: string
  json: boolean
}

/** The key store a running `npm start` recorded in its pipeline.json (deploy/local-stack). */
export type RecordedFieldKeys = { directory: string; kekFile: string }

/**
 * Checks `erase`'s flags against the environment and the running `npm start`; throws naming each
 * flag or setting at fault and what it accepts. Paths are made absolute against `cwd`.
 */
export function parseEraseFlags(
  flags: EraseFlags,
  env: Record<string, string | undefined>,
  running: { stateDir: string; fieldKeys: RecordedFieldKeys | undefined },
  cwd = process.cwd(),
): EraseOptions {
  const problems: string[] = []
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse()
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error))
      return undefined
    }
  }
  const tenant = attempt(() => nonEmpty('--tenant', flags.tenant))
  const subject = attempt(() => nonEmpty('--subject', flags.subject))
  const reason = flags.reason === undefined ? undefined : attempt(() => nonEmpty('--reason', flags.reason!))
  const actorId = attempt(() => actorOf(flags.actor, env))
  const fieldKeys = attempt(() => fieldKeysLocation(flags, env, running, cwd))
  const eventsTopic = attempt(() => topicName('--events-topic', flags.eventsTopic ?? defaultProducerTopic))
  const inputTopics = attempt(() => inputTopicsOf(flags.inputTopic, env))
  const normalizerGroup = attempt(() =>
    flags.normalizerGroup !== undefined
      ? nonEmpty('--normalizer-group', flags.normalizerGroup)
      : env['NORMALIZER_GROUP_ID']?.trim() || defaultNormalizerGroupId,
  )
  if (
    problems.length > 0 ||
    tenant === undefined ||
    subject === undefined ||
    actorId === undefined ||
    fieldKeys === undefined ||
    eventsTopic === undefined ||
    inputTopics === undefined ||
    normalizerGroup === undefined
  ) {
    throw new Error(problems.join('; '))
  }
  return {
    tenant,
    subject,
    ...(reason !== undefined && { reason }),
    actorId,
    fieldKeys,
    eventsTopic,
    inputTopics,
    normalizerGroup,
    json: flags.json ?? false,
  }
}

/**
 * Each of the folder and the key-encryption key file from its flag, else its variable (as the
 * normalizer and the query API read it), else the running `npm start`'s pipeline.json.
 */
function fieldKeysLocation(
  flags: Pick<EraseFlags, 'keysDir' | 'kekFile'>,
  env: Record<string, string | undefined>,
  running: { stateDir: string; fieldKeys: RecordedFieldKeys | undefined },
  cwd: string,
): FieldKeysLocation {
  const recorded = `the running npm start's ${running.stateDir}/pipeline.json`
  const pick = (
    flag: string,
    flagValue: string | undefined,
    variable: string,
    fromStack: string | undefined,
  ) => {
    if (flagValue !== undefined) return { path: absolute(cwd, nonEmpty(flag, flagValue)), setting: flag }
    const set = env[variable]?.trim()
    if (set) return { path: absolute(cwd, set), setting: variable }
    if (fromStack !== undefined) return { path: fromStack, setting: `${variable} (from ${recorded})` }
    return undefined
  }
  const directory = pick('--keys-dir', flags.keysDir, 'FIELD_KEYS_DIR', running.fieldKeys?.directory)
  const kekFile = pick('--kek-file', flags.kekFile, 'FIELD_KEYS_KEK_FILE', running.fieldKeys?.kekFile)
  const missing = [
    !directory && 'FIELD_KEYS_DIR (or --keys-dir: the data keys folder)',
    !kekFile && 'FIELD_KEYS_KEK_FILE (or --kek-file: the key-encryption key file)',
  ].filter(Boolean)
  if (!directory || !kekFile) {
    throw new Error(
      `${missing.join(' and ')} not set, and no npm start is running in ${running.stateDir}: set ${missing.length > 1 ? 'them' : 'it'} to what the normalizer and the query API use`,
    )
  }
  return { directory, kekFile }
}

/** `--actor`, else AUDIT_ACTOR, else the login name of whoever runs the command. */
function actorOf(flag: string | undefined, env: Record<string, string | undefined>): string {
  if (flag !== undefined) return nonEmpty('--actor', flag)
  const set = env['AUDIT_ACTOR']?.trim()
  if (set) return set
  let login: string | undefined
  try {
    login = userInfo().username
  } catch {
    // No user database entry (a container's anonymous uid): the actor must be given.
  }
  if (login) return login
  throw new Error('--actor is required (or AUDIT_ACTOR): who asked for the erasure, recorded with it')
}

/** `--input-topic` (repeatable), else NORMALIZER_INPUT_TOPICS as the normalizer reads it, else audit.events. */
function inputTopicsOf(flags: string[], env: Record<string, string | undefined>): string[] {
  if (flags.length > 0) return [...new Set(flags.map((topic) => topicName('--input-topic', topic)))]
  const set = env['NORMALIZER_INPUT_TOPICS']?.trim()
  if (set)
    return [...new Set(set.split(',').map((topic) => topicName('NORMALIZER_INPUT_TOPICS', topic.trim())))]
  return [pipelineTopics.events.name]
}

function absolute(cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path)
}

function nonEmpty(option: string, value: string): string {
  if (value.trim() !== '') return value
  throw new Error(`${option} must not be empty`)
}

function topicName(option: string, value: string): string {
  // Kafka's own rule for topic names.
  if (/^[A-Za-z0-9._-]{1,249}$/.test(value)) return value
  throw new Error(`${option} must be a Kafka topic name (letters, digits, '.', '_' and '-'); got '${value}'`)
}

/** The key store `npm start` recorded in its pipeline.json, when the file says where. */
export function recordedFieldKeys(pipeline: object | undefined): RecordedFieldKeys | undefined {
  const fieldKeys = (pipeline as { fieldKeys?: unknown } | undefined)?.fieldKeys
  if (typeof fieldKeys !== 'object' || fieldKeys === null) return undefined
  const { directory, kekFile } = fieldKeys as Record<string, unknown>
  return typeof directory === 'string' && typeof kekFile === 'string' ? { directory, kekFile } : undefined
}
