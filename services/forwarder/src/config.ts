import {
  checkShutdownDeadline,
  collectProblems,
  ConfigError,
  envValues,
  serviceConnections,
  unknownSettings,
  parseSettings,
  pipelineTopics,
  type KafkaSettings,
  type SchemaRegistrySettings,
} from '@audit-pipeline/config'
import { consumerEnvShape, consumerSettingsFrom, type ConsumerSettings } from '@audit-pipeline/kafka'
import { opsEnvShape, opsSettingsFrom, type OpsSettings } from '@audit-pipeline/service-runtime'
import { z } from 'zod'

/** The forwarder's settings, validated. Durations in ms. Destinations come from their own file. */
export type ForwarderConfig = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  destinationsFile: string
  inputTopics: readonly string[]
  /** What destinations with `input: checkpoints` read: the sink's signed checkpoints (never created here). */
  checkpointTopic: string
  /** Each destination reads in group `<prefix>.<destination>`. */
  groupIdPrefix: string
  /** Per destination: `<prefix><destination>`. */
  deadLetterTopicPrefix: string
  retryTopicPrefix: string
  /** Create missing per-destination dead-letter and retry topics at start-up. */
  createTopics: boolean
  /** Partitions of the per-destination topics the forwarder creates. */
  topicPartitions: number
  /** Batches each destination delivers at once, each partition's in order. */
  partitionsConsumedConcurrently: number
  /** Outages and the dead-letter guard (KAFKA_OUTAGE_GIVE_UP_MS, DLQ_GUARD_*): the consumer runtime's. */
  consumer: ConsumerSettings
  sessionTimeoutMs: number
  shutdownDeadlineMs: number
  ops: OpsSettings
}

/** The ops port when OPS_PORT is unset. */
export const forwarderOpsPort = 9466

const { positiveInt, sessionTimeoutMs, flag, kafkaTopic, kafkaTopics } = envValues

const topicPrefix = (example: string) =>
  z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,180}$/, `expected the start of a Kafka topic name, e.g. ${example}`)

const shape = {
  /** The destinations file (YAML). Required. */
  FORWARDER_DESTINATIONS_FILE: z
    .string({
      error: 'required: the destinations file (YAML), e.g. deploy/forwarder/destinations.example.yaml',
    })
    .trim(),
  /** Comma-separated topics to forward. Default `audit.forward`. */
  FORWARDER_INPUT_TOPICS: kafkaTopics().optional(),
  /** The ClickHouse sink's checkpoints topic (its SINK_CHECKPOINT_TOPIC), read by `input: checkpoints` destinations. Default `audit.checkpoints`. */
  // The sink's SINK_CHECKPOINT_TOPIC default.
  FORWARDER_CHECKPOINT_TOPIC: kafkaTopic().default('audit.checkpoints'),
  /** Consumer groups are `<this>.<destination>`. Default `audit-forwarder`. */
  FORWARDER_GROUP_ID_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,180}$/, 'expected letters, digits, . _ -')
    .default('audit-forwarder'),
  /** Dead-letter topics are `<this><destination>`. Default `audit.forward.dlq.`. */
  FORWARDER_DEAD_LETTER_TOPIC_PREFIX: topicPrefix('audit.forward.dlq.').default('audit.forward.dlq.'),
  /** Retry topics (what `dlq replay --to` sends back) are `<this><destination>`. Default `audit.forward.retry.`. */
  FORWARDER_RETRY_TOPIC_PREFIX: topicPrefix('audit.forward.retry.').default('audit.forward.retry.'),
  /** Create missing dead-letter and retry topics at start-up. Default true. */
  FORWARDER_CREATE_TOPICS: flag().default(true),
  /** Partitions of the topics it creates. Default 1. */
  FORWARDER_TOPIC_PARTITIONS: positiveInt('1').default(1),
  /** Batches each destination delivers at once, from different partitions (each partition in order). Default 6. */
  FORWARDER_CONCURRENT_PARTITIONS: positiveInt('6').default(6),
  /** 6000 to 300000. Default 30000. */
  FORWARDER_SESSION_TIMEOUT_MS: sessionTimeoutMs().default(30_000),
  /** On SIGTERM, how long in-flight batches may take to finish, ms. Default 20000. */
  FORWARDER_SHUTDOWN_DEADLINE_MS: positiveInt('20000').default(20_000),
  ...opsEnvShape,
  ...consumerEnvShape,
}

const knownVariables = new Set(Object.keys(shape))

/** Reads and checks every setting; throws ConfigError listing every bad one. */
export function loadForwarderConfig(env: Record<string, string | undefined>): ForwarderConfig {
  const problems = unknownSettings(env, 'FORWARDER_', knownVariables, 'forwarder')
  const connections = serviceConnections(env, { clickhouse: false }, problems)
  const s = collectProblems(() => parseSettings(z.object(shape), env), problems)
  if (s) {
    checkShutdownDeadline(
      'FORWARDER_',
      { deadlineMs: s.FORWARDER_SHUTDOWN_DEADLINE_MS, sessionTimeoutMs: s.FORWARDER_SESSION_TIMEOUT_MS },
      problems,
    )
  }
  if (problems.length > 0 || !connections || !s) throw new ConfigError(problems)
  return {
    kafka: connections.kafka,
    schemaRegistry: connections.schemaRegistry,
    destinationsFile: s.FORWARDER_DESTINATIONS_FILE,
    inputTopics: s.FORWARDER_INPUT_TOPICS ?? [pipelineTopics.forward.name],
    checkpointTopic: s.FORWARDER_CHECKPOINT_TOPIC,
    groupIdPrefix: s.FORWARDER_GROUP_ID_PREFIX,
    deadLetterTopicPrefix: s.FORWARDER_DEAD_LETTER_TOPIC_PREFIX,
    retryTopicPrefix: s.FORWARDER_RETRY_TOPIC_PREFIX,
    createTopics: s.FORWARDER_CREATE_TOPICS,
    topicPartitions: s.FORWARDER_TOPIC_PARTITIONS,
    partitionsConsumedConcurrently: s.FORWARDER_CONCURRENT_PARTITIONS,
    consumer: consumerSettingsFrom(s),
    sessionTimeoutMs: s.FORWARDER_SESSION_TIMEOUT_MS,
    shutdownDeadlineMs: s.FORWARDER_SHUTDOWN_DEADLINE_MS,
    ops: opsSettingsFrom(s, { defaultPort: forwarderOpsPort }),
  }
}

/** The Kafka names a destination uses. */
export function destinationTopics(config: ForwarderConfig, destination: string) {
  return {
    groupId: `${config.groupIdPrefix}.${destination}`,
    deadLetterTopic: `${config.deadLetterTopicPrefix}${destination}`,
    retryTopic: `${config.retryTopicPrefix}${destination}`,
  }
}
