import { userInfo } from 'node:os'
import { defaultNormalizerGroupId, pipelineTopics } from '@audit-pipeline/config'
import { defaultProducerTopic } from '@audit-pipeline/producer'
import { requiredFieldKeysLocation, type FieldKeysLocation, type RunningStack } from './fieldKeysOptions.js'
import { flagProblems } from './flagProblems.js'

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

/**
 * Checks `erase`'s flags against the environment and the running `npm start`; throws naming each
 * flag or setting at fault and what it accepts. Paths are made absolute against `cwd`.
 */
export function parseEraseFlags(
  flags: EraseFlags,
  env: Record<string, string | undefined>,
  running: RunningStack,
  cwd = process.cwd(),
): EraseOptions {
  const { problems, attempt } = flagProblems()
  const tenant = attempt(() => nonEmpty('--tenant', flags.tenant))
  const subject = attempt(() => nonEmpty('--subject', flags.subject))
  const reason = flags.reason === undefined ? undefined : attempt(() => nonEmpty('--reason', flags.reason!))
  const actorId = attempt(() => actorOf(flags.actor, env))
  const fieldKeys = attempt(() => requiredFieldKeysLocation(flags, env, running, cwd))
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

function nonEmpty(option: string, value: string): string {
  if (value.trim() !== '') return value
  throw new Error(`${option} must not be empty`)
}

function topicName(option: string, value: string): string {
  // Kafka's own rule for topic names.
  if (/^[A-Za-z0-9._-]{1,249}$/.test(value)) return value
  throw new Error(`${option} must be a Kafka topic name (letters, digits, '.', '_' and '-'); got '${value}'`)
}
