import { consumerEnvShape, consumerSettingsFrom, type ConsumerSettings } from '@audit-pipeline/kafka'
import { readFileSync } from 'node:fs'
import {
  defaultNormalizerGroupId,
  checkShutdownDeadline,
  collectProblems,
  ConfigError,
  envValues,
  fieldKeysPairProblem,
  serviceConnections,
  unknownSettings,
  parseSettings,
  pipelineTopics,
  type KafkaSettings,
  type SchemaRegistrySettings,
} from '@audit-pipeline/config'
import { defaultEventPolicy, type EventPolicy } from '@audit-pipeline/event-model'
import { opsEnvShape, opsSettingsFrom, type OpsSettings } from '@audit-pipeline/service-runtime'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { auditJsonAdapter } from './adapters/auditJsonAdapter.js'
import { cloudEventsAdapter } from './adapters/cloudEventsAdapter.js'
import { createDebeziumAdapter } from './adapters/debeziumAdapter.js'
import type { DebeziumAdapterConfig } from './adapters/debeziumConfig.js'
import type { InputAdapter } from './adapters/inputAdapter.js'
import { defaultLevelsPolicy, parseLevelsPolicy, type LevelsPolicy } from './levels/levelsPolicy.js'
import type { FieldKeySettings } from './redaction/openFieldKeyStore.js'
import {
  defaultRedactionPolicy,
  parseRedactionPolicy,
  type RedactionPolicy,
} from './redaction/redactionPolicy.js'

/** The normalizer's settings, validated. Durations in ms, sizes in bytes. */
export type NormalizerConfig = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  /** Topics read: a list, or a pattern matched against every topic's name. */
  input: { topics: readonly string[] } | { pattern: RegExp }
  groupId: string
  routesFile: string
  deadLetterTopic: string
  /** 0 turns duplicate dropping off. */
  dedupWindowMs: number
  dedupMaxIds: number
  maxEventBytes: number
  /** A partition's pending outputs are sent once they reach this size. */
  flushMaxBytes: number
  partitionsConsumedConcurrently: number
  /** Outages and the dead-letter guard (KAFKA_OUTAGE_GIVE_UP_MS, DLQ_GUARD_*): the consumer runtime's. */
  consumer: ConsumerSettings
  /** A member silent this long is dropped from the group and its partitions reassigned. */
  sessionTimeoutMs: number
  shutdownDeadlineMs: number
  /** Create missing output and dead-letter topics at start-up and on reload, with this many partitions. */
  createTopics: { partitions: number } | false
  /** Register the current schema if the registry lacks it (development); else it must be registered. */
  autoRegisterSchema: boolean
  adapters: readonly InputAdapter[]
  /** What each event keeps, by tenant, object type or source (NORMALIZER_LEVELS_FILE); unset, everything (3/3). */
  levels: LevelsPolicy
  redaction: RedactionPolicy
  /** The key store of the `encrypt` redaction method, opened at start-up (openFieldKeyStore); unset, no tenant may encrypt. */
  fieldKeys: FieldKeySettings | undefined
  policy: EventPolicy
  ops: OpsSettings
}

/** The ops port when OPS_PORT is unset. */
export const normalizerOpsPort = 9464

const { positiveInt, sessionTimeoutMs, wholeNumber, flag, kafkaTopic, kafkaTopics } = envValues

const shape = {
  /** Comma-separated topics to read. Default `audit.events`. */
  NORMALIZER_INPUT_TOPICS: kafkaTopics().optional(),
  /** A JavaScript regular expression; every topic whose whole name matches is read. */
  NORMALIZER_INPUT_TOPIC_PATTERN: z
    .string()
    .transform((value, ctx) => {
      try {
        // Compiled alone first: `a)|(b` only compiles inside the group, where it would match anything.
        new RegExp(value)
        return new RegExp(`^(?:${value})$`)
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(error as Error).message}` })
        return z.NEVER
      }
    })
    .optional(),
  /** Consumer group; instances with one group share the partitions. Default `audit-normalizer`. */
  NORMALIZER_GROUP_ID: z.string().trim().default(defaultNormalizerGroupId),
  /** The routes file, YAML or JSON (services/normalizer/routes.example.yaml). Required. */
  NORMALIZER_ROUTES_FILE: z.string({ error: 'required: the routes file (YAML or JSON)' }).trim(),
  /** Where messages that cannot be normalized go. Default `audit.dlq`. */
  NORMALIZER_DEAD_LETTER_TOPIC: kafkaTopic().default(pipelineTopics.deadLetters.name),
  /** How long a sent event id is remembered to drop duplicates, ms; 0 turns it off. Default 10 minutes. */
  NORMALIZER_DEDUP_WINDOW_MS: wholeNumber('600000').default(600_000),
  /** At most this many remembered ids (about 100 bytes each). Default 1,000,000. */
  NORMALIZER_DEDUP_MAX_IDS: positiveInt('1000000').default(1_000_000),
  /** Largest message read and largest normalized event written, bytes. Default 1,000,000 (Kafka's limit is 1 MiB). */
  NORMALIZER_MAX_EVENT_BYTES: positiveInt('1000000').default(1_000_000),
  /** A partition's outputs are sent once this many bytes are pending, bytes. Default 786432 (768 KiB). */
  NORMALIZER_FLUSH_MAX_BYTES: positiveInt('786432').default(786_432),
  /** Partitions processed at once by one instance. Default 6. */
  NORMALIZER_CONCURRENT_PARTITIONS: positiveInt('6').default(6),
  /**
   * How long the group waits for a silent instance before giving its partitions to others, ms;
   * after a crash, its partitions stall this long. 6000 to 300000 (the broker's bounds). Default 30000.
   */
  NORMALIZER_SESSION_TIMEOUT_MS: sessionTimeoutMs().default(30_000),
  /** On SIGTERM, how long the batch in flight may take to finish, ms; below the session timeout. Default 20000. */
  NORMALIZER_SHUTDOWN_DEADLINE_MS: positiveInt('20000').default(20_000),
  /** Create missing output and dead-letter topics. Default true. */
  NORMALIZER_CREATE_TOPICS: flag().default(true),
  /** Partitions of topics the normalizer creates. Default 6. */
  NORMALIZER_TOPIC_PARTITIONS: positiveInt('6').default(6),
  /** Register the current event schema when the registry lacks it. Default true. */
  NORMALIZER_SCHEMA_AUTO_REGISTER: flag().default(true),
  /** Debezium adapter settings (YAML or JSON); unset, Debezium change events are refused. */
  NORMALIZER_DEBEZIUM_FILE: z.string().trim().optional(),
  /**
   * Logging levels (YAML or JSON): per tenant, object type or source, the temporal and informative
   * level (1 to 3) events keep. Unset, every event keeps everything (3/3).
   */
  NORMALIZER_LEVELS_FILE: z.string().trim().optional(),
  /** Per-tenant redaction policy (YAML or JSON); unset, each event's own sensitive_fields are dropped. */
  NORMALIZER_REDACTION_FILE: z.string().trim().optional(),
  /** Secret key for the `hash` redaction method. */
  NORMALIZER_REDACTION_HMAC_KEY: z.string().optional(),
  /**
   * The local key store's folder, for the `encrypt` redaction method (packages/field-encryption);
   * created if missing. Shared name: every service that seals or opens values reads it.
   */
  FIELD_KEYS_DIR: z.string().trim().optional(),
  /** The key-encryption key file (base64 of 32 bytes, `openssl rand -base64 32`); with FIELD_KEYS_DIR. */
  FIELD_KEYS_KEK_FILE: z.string().trim().optional(),
  ...opsEnvShape,
  ...consumerEnvShape,
}

const schema = z.object(shape).superRefine((env, ctx) => {
  if (env.NORMALIZER_INPUT_TOPICS && env.NORMALIZER_INPUT_TOPIC_PATTERN) {
    ctx.addIssue({
      code: 'custom',
      path: ['NORMALIZER_INPUT_TOPIC_PATTERN'],
      message: 'set either NORMALIZER_INPUT_TOPICS or NORMALIZER_INPUT_TOPIC_PATTERN, not both',
    })
  }
  const fieldKeys = fieldKeysPairProblem(env.FIELD_KEYS_DIR, env.FIELD_KEYS_KEK_FILE)
  if (fieldKeys) ctx.addIssue({ code: 'custom', path: [fieldKeys.setting], message: fieldKeys.message })
})

const knownVariables = new Set(Object.keys(shape))

export type ConfigFiles = { readFile(path: string): string }

const diskFiles: ConfigFiles = { readFile: (path) => readFileSync(path, 'utf8') }

/**
 * Reads and checks every setting and the files they name (routes are read by the service, which
 * also re-reads them on SIGHUP). Throws ConfigError naming each bad variable; a misspelt
 * NORMALIZER_* variable is an error too, rather than a default silently used.
 */
export function loadNormalizerConfig(
  env: Record<string, string | undefined>,
  files: ConfigFiles = diskFiles,
): NormalizerConfig {
  const problems = unknownSettings(env, 'NORMALIZER_', knownVariables, 'normalizer')
  // All parsed before throwing, so one error lists every bad setting.
  const connections = serviceConnections(env, { clickhouse: false }, problems)
  const s = collectProblems(() => parseSettings(schema, env), problems)
  if (s) {
    checkShutdownDeadline(
      'NORMALIZER_',
      { deadlineMs: s.NORMALIZER_SHUTDOWN_DEADLINE_MS, sessionTimeoutMs: s.NORMALIZER_SESSION_TIMEOUT_MS },
      problems,
    )
  }
  if (problems.length > 0 || !connections || !s) throw new ConfigError(problems)

  const fieldKeys: FieldKeySettings | undefined =
    s.FIELD_KEYS_DIR && s.FIELD_KEYS_KEK_FILE
      ? { directory: s.FIELD_KEYS_DIR, keyEncryptionKeyFile: s.FIELD_KEYS_KEK_FILE }
      : undefined
  return {
    kafka: connections.kafka,
    schemaRegistry: connections.schemaRegistry,
    input: s.NORMALIZER_INPUT_TOPIC_PATTERN
      ? { pattern: s.NORMALIZER_INPUT_TOPIC_PATTERN }
      : { topics: s.NORMALIZER_INPUT_TOPICS ?? [pipelineTopics.events.name] },
    groupId: s.NORMALIZER_GROUP_ID,
    routesFile: s.NORMALIZER_ROUTES_FILE,
    deadLetterTopic: s.NORMALIZER_DEAD_LETTER_TOPIC,
    dedupWindowMs: s.NORMALIZER_DEDUP_WINDOW_MS,
    dedupMaxIds: s.NORMALIZER_DEDUP_MAX_IDS,
    maxEventBytes: s.NORMALIZER_MAX_EVENT_BYTES,
    flushMaxBytes: s.NORMALIZER_FLUSH_MAX_BYTES,
    partitionsConsumedConcurrently: s.NORMALIZER_CONCURRENT_PARTITIONS,
    consumer: consumerSettingsFrom(s),
    sessionTimeoutMs: s.NORMALIZER_SESSION_TIMEOUT_MS,
    shutdownDeadlineMs: s.NORMALIZER_SHUTDOWN_DEADLINE_MS,
    createTopics: s.NORMALIZER_CREATE_TOPICS ? { partitions: s.NORMALIZER_TOPIC_PARTITIONS } : false,
    autoRegisterSchema: s.NORMALIZER_SCHEMA_AUTO_REGISTER,
    adapters: inputAdapters(s.NORMALIZER_DEBEZIUM_FILE, files),
    levels: s.NORMALIZER_LEVELS_FILE
      ? fileSetting('NORMALIZER_LEVELS_FILE', s.NORMALIZER_LEVELS_FILE, files, (text) =>
          parseLevelsPolicy(text, s.NORMALIZER_LEVELS_FILE ?? ''),
        )
      : defaultLevelsPolicy,
    redaction: s.NORMALIZER_REDACTION_FILE
      ? fileSetting('NORMALIZER_REDACTION_FILE', s.NORMALIZER_REDACTION_FILE, files, (text) =>
          parseRedactionPolicy(text, s.NORMALIZER_REDACTION_FILE ?? '', {
            hmacKey: s.NORMALIZER_REDACTION_HMAC_KEY,
            fieldKeys: fieldKeys !== undefined,
          }),
        )
      : defaultRedactionPolicy,
    fieldKeys,
    policy: defaultEventPolicy,
    ops: opsSettingsFrom(s, { defaultPort: normalizerOpsPort }),
  }
}

/** The JSON form and CloudEvents always; Debezium when configured, since it needs a tenant. */
function inputAdapters(debeziumFile: string | undefined, files: ConfigFiles): readonly InputAdapter[] {
  if (!debeziumFile) return [auditJsonAdapter, cloudEventsAdapter]
  const debezium = fileSetting('NORMALIZER_DEBEZIUM_FILE', debeziumFile, files, (text) =>
    createDebeziumAdapter((parseYaml(text) ?? {}) as DebeziumAdapterConfig),
  )
  return [auditJsonAdapter, cloudEventsAdapter, debezium]
}

function fileSetting<T>(setting: string, file: string, files: ConfigFiles, read: (text: string) => T): T {
  let text: string
  try {
    text = files.readFile(file)
  } catch (error) {
    throw new ConfigError([{ setting, message: `cannot read ${file}: ${(error as Error).message}` }])
  }
  try {
    return read(text)
  } catch (error) {
    // Some readers name the file themselves (the redaction and levels policies, with the entry).
    const message = (error as Error).message
    throw new ConfigError([
      { setting, message: message.startsWith(`${file}:`) ? message : `${file}: ${message}` },
    ])
  }
}
