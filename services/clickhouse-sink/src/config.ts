import {
  parseRetentionPolicy,
  retentionSettings,
  type RetentionPolicy,
} from '@audit-pipeline/clickhouse-schema'
import {
  checkShutdownDeadline,
  collectProblems,
  ConfigError,
  envValues,
  serviceConnections,
  unknownSettings,
  parseSettings,
  pipelineTopics,
  type ConfigProblem,
  type ServiceClickHouse,
  type KafkaSettings,
  type SchemaRegistrySettings,
} from '@audit-pipeline/config'
import { consumerEnvShape, consumerSettingsFrom, type ConsumerSettings } from '@audit-pipeline/kafka'
import {
  failpointsFrom,
  FailpointsError,
  opsEnvShape,
  opsSettingsFrom,
  type Failpoints,
  type OpsSettings,
} from '@audit-pipeline/service-runtime'
import type { ReservedNamespace } from '@audit-pipeline/event-model'
import { IntegrityKeyError, readSigningKey, type SigningKey } from '@audit-pipeline/integrity'
import { z } from 'zod'
import type { BatchPolicy } from './batching/batchPolicy.js'
import { sinkFailpoints } from './delivery/writeBatch.js'
import type { CheckpointPolicy } from './integrity/chainWriter.js'

/** The sink's settings, validated. Durations in ms, sizes in bytes. */
export type SinkConfig = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  /** Embedded needs a data folder (CLICKHOUSE_EMBEDDED_PATH); only one process may open it. */
  clickhouse: ServiceClickHouse
  inputTopics: readonly string[]
  /**
   * The reserved namespace each input topic holds (alerts, access records), from SINK_ALERT_TOPICS
   * and SINK_ACCESS_TOPICS: events there must claim it, events anywhere else must claim none.
   */
  namespaceByTopic: ReadonlyMap<string, ReservedNamespace>
  groupId: string
  deadLetterTopic: string
  batch: BatchPolicy
  partitionsConsumedConcurrently: number
  /** Outages and the dead-letter guard (KAFKA_OUTAGE_GIVE_UP_MS, DLQ_GUARD_*): the consumer runtime's. */
  consumer: ConsumerSettings
  sessionTimeoutMs: number
  shutdownDeadlineMs: number
  /** Longest wait between insert retries while ClickHouse is unavailable. */
  retryMaxDelayMs: number
  /** Crash points armed by a fault drill (AUDIT_FAILPOINTS); none otherwise. */
  failpoints: Failpoints
  /** Apply pending migrations at start-up. */
  migrate: boolean
  /** How long rows are kept, per category and tenant (rendered into the tables' TTL). */
  retention: RetentionPolicy
  /** A ClickHouse cluster name: replicated tables behind Distributed ones. Unset: one server. */
  cluster?: string
  /** The hash chain's signed checkpoints (README, "Integrity"). */
  integrity: IntegritySettings
  ops: OpsSettings
}

/** How the sink signs and publishes checkpoints of the hash chain. */
export type IntegritySettings = {
  /** Undefined only with SINK_CHECKPOINTS=false: entries are chained, nothing is signed. */
  signingKey: SigningKey | undefined
  checkpoints: CheckpointPolicy
  /** The compacted topic checkpoints are copied to, after ClickHouse has them. */
  checkpointTopic: string
}

/** The ops port when OPS_PORT is unset. */
export const sinkOpsPort = 9465

const { positiveInt, sessionTimeoutMs, flag, kafkaTopic, kafkaTopics } = envValues

const shape = {
  /**
   * Comma-separated topics to store: normalized events, alerts, access records. Default
   * `audit.normalized,audit.alerts,audit.access`.
   */
  SINK_INPUT_TOPICS: kafkaTopics().optional(),
  /** Input topics written by the alerting service: only alerts, and alerts only from them. Default `audit.alerts`. */
  SINK_ALERT_TOPICS: kafkaTopics().optional(),
  /** Input topics written by the query API: only access records, and those only from them. Default `audit.access`. */
  SINK_ACCESS_TOPICS: kafkaTopics().optional(),
  /** Consumer group; sink instances with one group share the partitions. Default `audit-clickhouse-sink`. */
  SINK_GROUP_ID: z.string().trim().default('audit-clickhouse-sink'),
  /** Where rows ClickHouse refuses, and messages that do not decode, go. Default `audit.dlq`. */
  SINK_DEAD_LETTER_TOPIC: kafkaTopic().default(pipelineTopics.deadLetters.name),
  /** Rows per insert. Default 50000. */
  SINK_BATCH_MAX_ROWS: positiveInt('50000').default(50_000),
  /** Bytes of rows per insert (their JSON size, about). Default 33554432 (32 MiB). */
  SINK_BATCH_MAX_BYTES: positiveInt('33554432').default(32 * 1024 * 1024),
  /** A batch is written once its oldest row is this old, ms. Default 1000. */
  SINK_BATCH_MAX_AGE_MS: positiveInt('1000').default(1_000),
  /** Partitions read at once. Default 6. */
  SINK_CONCURRENT_PARTITIONS: positiveInt('6').default(6),
  /** 6000 to 300000. Default 30000. */
  SINK_SESSION_TIMEOUT_MS: sessionTimeoutMs().default(30_000),
  /** On SIGTERM, how long writing the open batch may take, ms. Default 20000. */
  SINK_SHUTDOWN_DEADLINE_MS: positiveInt('20000').default(20_000),
  /** Longest wait between retries while ClickHouse is unavailable, ms. Default 30000. */
  SINK_RETRY_MAX_DELAY_MS: positiveInt('30000').default(30_000),
  /** Apply pending schema migrations at start-up. Default true. */
  SINK_MIGRATE: flag().default(true),
  /** A cluster from the server's remote_servers: tables are created ON CLUSTER, replicated and sharded. */
  SINK_CLICKHOUSE_CLUSTER: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, 'expected a cluster name of letters, digits, _ . -')
    .optional(),
  /**
   * The Ed25519 private key (PKCS#8 PEM) checkpoints are signed with; its public key is what
   * `audit-pipeline verify` trusts (README, "Integrity"). Required unless SINK_CHECKPOINTS=false.
   */
  SINK_SIGNING_KEY_FILE: z.string().trim().min(1).optional(),
  /** Sign checkpoints of the hash chain. Default true; false leaves the chain unsigned (tests, benchmarks). */
  SINK_CHECKPOINTS: flag().default(true),
  /** An entry waits at most this long for its checkpoint, ms. Default 60000. */
  SINK_CHECKPOINT_INTERVAL_MS: positiveInt('60000').default(60_000),
  /** Entries one checkpoint covers at most. Default 100000. */
  SINK_CHECKPOINT_MAX_ENTRIES: positiveInt('100000').default(100_000),
  /** The compacted topic checkpoints are copied to (created when missing). Default `audit.checkpoints`. */
  SINK_CHECKPOINT_TOPIC: kafkaTopic().default('audit.checkpoints'),
  /** Retention per category, e.g. debug=7d,business=7y,default=2y (schema/retention.ts). */
  [retentionSettings.categories]: z.string().optional(),
  /** Retention per tenant and category, e.g. acme:business=10y. */
  [retentionSettings.tenants]: z.string().optional(),
  ...opsEnvShape,
  ...consumerEnvShape,
}

const knownVariables = new Set(Object.keys(shape))

/** Reads and checks every setting; throws ConfigError listing every bad one. */
export function loadSinkConfig(env: Record<string, string | undefined>): SinkConfig {
  const problems = unknownSettings(env, 'SINK_', knownVariables, 'sink')
  const connections = serviceConnections(env, { clickhouse: true }, problems)
  const s = collectProblems(() => parseSettings(z.object(shape), env), problems)
  const retention = collectProblems(() => parseRetentionPolicy(env), problems)
  if (s) {
    checkShutdownDeadline(
      'SINK_',
      { deadlineMs: s.SINK_SHUTDOWN_DEADLINE_MS, sessionTimeoutMs: s.SINK_SESSION_TIMEOUT_MS },
      problems,
    )
  }
  const namespaceByTopic = s ? namespacesFrom(s, problems) : undefined
  const failpoints = sinkFailpointsFrom(env, problems)
  const integrity = s ? integrityFrom(s, problems) : undefined
  if (
    problems.length > 0 ||
    !connections ||
    !s ||
    !retention ||
    !failpoints ||
    !namespaceByTopic ||
    !integrity
  )
    throw new ConfigError(problems)
  return {
    ...connections,
    inputTopics: s.SINK_INPUT_TOPICS ?? defaultInputTopics,
    namespaceByTopic,
    groupId: s.SINK_GROUP_ID,
    deadLetterTopic: s.SINK_DEAD_LETTER_TOPIC,
    batch: {
      maxRows: s.SINK_BATCH_MAX_ROWS,
      maxBytes: s.SINK_BATCH_MAX_BYTES,
      maxAgeMs: s.SINK_BATCH_MAX_AGE_MS,
    },
    partitionsConsumedConcurrently: s.SINK_CONCURRENT_PARTITIONS,
    consumer: consumerSettingsFrom(s),
    sessionTimeoutMs: s.SINK_SESSION_TIMEOUT_MS,
    shutdownDeadlineMs: s.SINK_SHUTDOWN_DEADLINE_MS,
    retryMaxDelayMs: s.SINK_RETRY_MAX_DELAY_MS,
    failpoints,
    migrate: s.SINK_MIGRATE,
    retention,
    ...(s.SINK_CLICKHOUSE_CLUSTER && { cluster: s.SINK_CLICKHOUSE_CLUSTER }),
    integrity,
    ops: opsSettingsFrom(s, { defaultPort: sinkOpsPort }),
  }
}

const defaultInputTopics = [
  pipelineTopics.normalized.name,
  pipelineTopics.alerts.name,
  pipelineTopics.access.name,
]

/** Which topics hold alerts and access records; a topic cannot hold both. */
function namespacesFrom(
  s: { SINK_ALERT_TOPICS?: string[] | undefined; SINK_ACCESS_TOPICS?: string[] | undefined },
  problems: ConfigProblem[],
): Map<string, ReservedNamespace> {
  const namespaces = new Map<string, ReservedNamespace>()
  for (const topic of s.SINK_ALERT_TOPICS ?? [pipelineTopics.alerts.name]) namespaces.set(topic, 'alert')
  for (const topic of s.SINK_ACCESS_TOPICS ?? [pipelineTopics.access.name]) {
    if (namespaces.has(topic)) {
      problems.push({
        setting: 'SINK_ACCESS_TOPICS',
        message: `${topic} is in SINK_ALERT_TOPICS too: a topic holds alerts or access records, not both`,
      })
    }
    namespaces.set(topic, 'access-record')
  }
  return namespaces
}

/** The signing key, read and checked now: a bad key stops the sink at start-up, naming the file. */
function integrityFrom(
  s: {
    SINK_SIGNING_KEY_FILE?: string | undefined
    SINK_CHECKPOINTS: boolean
    SINK_CHECKPOINT_INTERVAL_MS: number
    SINK_CHECKPOINT_MAX_ENTRIES: number
    SINK_CHECKPOINT_TOPIC: string
  },
  problems: ConfigProblem[],
): IntegritySettings | undefined {
  let signingKey: SigningKey | undefined
  if (s.SINK_CHECKPOINTS) {
    if (s.SINK_SIGNING_KEY_FILE === undefined) {
      problems.push({
        setting: 'SINK_SIGNING_KEY_FILE',
        message:
          'required: the Ed25519 key checkpoints are signed with (`audit-pipeline keys signing-key --out FILE` makes one), or SINK_CHECKPOINTS=false to chain without signing',
      })
      return undefined
    }
    try {
      signingKey = readSigningKey(s.SINK_SIGNING_KEY_FILE)
    } catch (error) {
      if (!(error instanceof IntegrityKeyError)) throw error
      problems.push({ setting: 'SINK_SIGNING_KEY_FILE', message: error.message })
      return undefined
    }
  }
  return {
    signingKey,
    checkpoints: { intervalMs: s.SINK_CHECKPOINT_INTERVAL_MS, maxEntries: s.SINK_CHECKPOINT_MAX_ENTRIES },
    checkpointTopic: s.SINK_CHECKPOINT_TOPIC,
  }
}

function sinkFailpointsFrom(env: Record<string, string | undefined>, problems: ConfigProblem[]) {
  try {
    return failpointsFrom(env, Object.values(sinkFailpoints))
  } catch (error) {
    if (!(error instanceof FailpointsError)) throw error
    problems.push({ setting: error.setting, message: error.problem })
    return undefined
  }
}
