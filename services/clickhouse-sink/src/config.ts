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
import { z } from 'zod'
import type { BatchPolicy } from './batching/batchPolicy.js'
import { sinkFailpoints } from './delivery/writeBatch.js'

/** The sink's settings, validated. Durations in ms, sizes in bytes. */
export type SinkConfig = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  /** Embedded needs a data folder (CLICKHOUSE_EMBEDDED_PATH); only one process may open it. */
  clickhouse: ServiceClickHouse
  inputTopics: readonly string[]
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
  ops: OpsSettings
}

/** The ops port when OPS_PORT is unset. */
export const sinkOpsPort = 9465

const { positiveInt, sessionTimeoutMs, flag, kafkaTopic, kafkaTopics } = envValues

const shape = {
  /** Comma-separated topics of normalized events. Default `audit.normalized`. */
  SINK_INPUT_TOPICS: kafkaTopics().optional(),
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
  const failpoints = sinkFailpointsFrom(env, problems)
  if (problems.length > 0 || !connections || !s || !retention || !failpoints) throw new ConfigError(problems)
  return {
    ...connections,
    inputTopics: s.SINK_INPUT_TOPICS ?? [pipelineTopics.normalized.name],
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
    ops: opsSettingsFrom(s, { defaultPort: sinkOpsPort }),
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
