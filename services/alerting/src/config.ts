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
import { defaultRuleBudget, type RuleBudgetSettings } from './engine/ruleBudget.js'

/** The alerting service's settings, validated. Durations in ms. */
export type AlertingConfig = {
  kafka: KafkaSettings
  schemaRegistry: SchemaRegistrySettings
  inputTopics: readonly string[]
  /** Where alerts go, as canonical events (Avro, like the normalized topic). */
  alertsTopic: string
  /** The compacted topic the evaluator's state is written to and restored from. */
  stateTopic: string
  deadLetterTopic: string
  /**
   * Dead-letter topics read for EVENT_ID_CONFLICT dead letters, each raising a security alert
   * (service/conflictAlerts.ts).
   */
  conflictInputTopics: readonly string[]
  groupId: string
  /** The conflict alerts' consumer group: `<groupId>-conflicts`. */
  conflictGroupId: string
  /** Where a new consumer group (the evaluator's, a new receiver's) starts reading. */
  startFrom: 'earliest' | 'latest'
  /** The evaluator's transactional id: a second instance with it fences the first. */
  transactionalId: string
  rulesFile: string
  /** Unset: alerts go to the topic only. */
  receiversFile?: string
  allowedLatenessMs: number
  checkIntervalMs: number
  /** How long a transaction gathers batches before it commits (off the alerts' way to receivers). */
  commitIntervalMs: number
  idlePartitionMs: number
  maxGroupsPerRule: number
  maxEntities: number
  /** Each rule's time budget per event, and when overrunning it disables the rule (engine/ruleBudget.ts). */
  ruleBudget: RuleBudgetSettings
  sessionTimeoutMs: number
  shutdownDeadlineMs: number
  retryMaxDelayMs: number
  /** The consumer runtime's: outages (KAFKA_OUTAGE_GIVE_UP_MS) and the evaluator's dead-letter guard (DLQ_GUARD_*). */
  consumer: ConsumerSettings
  ops: OpsSettings
}

/** The ops port when OPS_PORT is unset. */
export const alertingOpsPort = 9467

const { positiveInt, sessionTimeoutMs, kafkaTopic, kafkaTopics } = envValues

const shape = {
  /** Comma-separated topics of canonical events to evaluate. Default `audit.normalized`. */
  ALERTING_INPUT_TOPICS: kafkaTopics().optional(),
  /** Where alerts are produced (canonical events, Avro). Default `audit.alerts`. */
  ALERTING_ALERTS_TOPIC: kafkaTopic().default('audit.alerts'),
  /** Compacted changelog of the evaluator's state. Default `audit.alerting.state`. */
  ALERTING_STATE_TOPIC: kafkaTopic().default('audit.alerting.state'),
  /** Where messages that do not decode go. Default `audit.dlq`. */
  ALERTING_DEAD_LETTER_TOPIC: kafkaTopic().default(pipelineTopics.deadLetters.name),
  /**
   * Comma-separated dead-letter topics whose EVENT_ID_CONFLICT dead letters (an event id sent again
   * with other content, refused by the normalizer or the ClickHouse sink) each raise a critical
   * security alert. Default `audit.dlq`.
   */
  ALERTING_CONFLICT_INPUT_TOPICS: kafkaTopics().optional(),
  /** Where a consumer group without committed offsets starts: latest (new events only) or earliest. Default latest. */
  ALERTING_START_FROM: z
    .enum(['earliest', 'latest'], { error: 'expected earliest or latest' })
    .default('latest'),
  /**
   * Consumer group of the evaluator; webhook receivers get `<group>-webhook-<name>`, the conflict
   * alerts `<group>-conflicts`. Default `audit-alerting`.
   */
  ALERTING_GROUP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, . _ -')
    .default('audit-alerting'),
  /** Transactional id of the evaluator's producer. Default: the group id. */
  ALERTING_TRANSACTIONAL_ID: z.string().trim().optional(),
  /** The rules file (YAML). Required. */
  ALERTING_RULES_FILE: z.string().trim().min(1),
  /** The webhook receivers file (YAML). Unset: no webhooks. */
  ALERTING_RECEIVERS_FILE: z.string().trim().optional(),
  /** How late (behind the newest event time) an event may arrive and still count in windows, ms. Default 60000. */
  ALERTING_ALLOWED_LATENESS_MS: envValues.wholeNumber('60000').default(60_000),
  /** How often, in event time, windows are checked for cleared conditions and flatlines, ms. Default 1000. */
  ALERTING_CHECK_INTERVAL_MS: positiveInt('1000').default(1_000),
  /**
   * How long one transaction gathers consumed batches (of all partitions) before it commits, ms.
   * Not on the alerts' way to receivers (they go at once); the alerts topic's delay, and what a
   * crash may send again. Default 100.
   */
  ALERTING_COMMIT_INTERVAL_MS: positiveInt('100').default(100),
  /** An input partition read to its end with no event for this long (wall clock) stops holding event time back, ms. Default 5000. */
  ALERTING_IDLE_PARTITION_MS: positiveInt('5000').default(5_000),
  /** Groups remembered per rule. Default 100000. */
  ALERTING_MAX_GROUPS_PER_RULE: positiveInt('100000').default(100_000),
  /** Objects whose last state is remembered (entity conditions). Default 100000. */
  ALERTING_MAX_ENTITIES: positiveInt('100000').default(100_000),
  /** How long one rule may take to evaluate one event, ms. Default 50. */
  ALERTING_RULE_BUDGET_MS: positiveInt(String(defaultRuleBudget.budgetMs)).default(
    defaultRuleBudget.budgetMs,
  ),
  /** The overrun of a rule's budget that makes this many within ALERTING_RULE_BUDGET_WINDOW_MS disables it. Default 5. */
  ALERTING_RULE_BUDGET_OVERRUN_LIMIT: positiveInt(String(defaultRuleBudget.overrunLimit)).default(
    defaultRuleBudget.overrunLimit,
  ),
  /** The span over which a rule's budget overruns are counted, ms. Default 60000. */
  ALERTING_RULE_BUDGET_WINDOW_MS: positiveInt(String(defaultRuleBudget.windowMs)).default(
    defaultRuleBudget.windowMs,
  ),
  /** 6000 to 300000. Default 30000. */
  ALERTING_SESSION_TIMEOUT_MS: sessionTimeoutMs().default(30_000),
  /** On SIGTERM, how long finishing the batch may take, ms. Default 20000. */
  ALERTING_SHUTDOWN_DEADLINE_MS: positiveInt('20000').default(20_000),
  /** Longest wait between webhook retries, ms. Default 60000. */
  ALERTING_RETRY_MAX_DELAY_MS: positiveInt('60000').default(60_000),
  ...opsEnvShape,
  ...consumerEnvShape,
}

const knownVariables = new Set(Object.keys(shape))

/** Reads and checks every setting; throws ConfigError listing every bad one. */
export function loadAlertingConfig(env: Record<string, string | undefined>): AlertingConfig {
  const problems = unknownSettings(env, 'ALERTING_', knownVariables, 'alerting service')
  const connections = serviceConnections(env, { clickhouse: false }, problems)
  const s = collectProblems(() => parseSettings(z.object(shape), env), problems)
  if (s) {
    checkShutdownDeadline(
      'ALERTING_',
      { deadlineMs: s.ALERTING_SHUTDOWN_DEADLINE_MS, sessionTimeoutMs: s.ALERTING_SESSION_TIMEOUT_MS },
      problems,
    )
  }
  if (
    s &&
    [s.ALERTING_ALERTS_TOPIC, s.ALERTING_STATE_TOPIC].some((topic) =>
      (s.ALERTING_INPUT_TOPICS ?? []).includes(topic),
    )
  ) {
    problems.push({
      setting: 'ALERTING_INPUT_TOPICS',
      message: 'must not include the alerts or state topic (alerts would be evaluated as events)',
    })
  }
  const conflictOverlap =
    s &&
    (s.ALERTING_CONFLICT_INPUT_TOPICS ?? []).filter((topic) =>
      [
        s.ALERTING_ALERTS_TOPIC,
        s.ALERTING_STATE_TOPIC,
        ...(s.ALERTING_INPUT_TOPICS ?? [pipelineTopics.normalized.name]),
      ].includes(topic),
    )
  if (conflictOverlap && conflictOverlap.length > 0) {
    // Only dead letters are read there: an alert or an event would be an unreadable dead letter each.
    problems.push({
      setting: 'ALERTING_CONFLICT_INPUT_TOPICS',
      message: `must name dead-letter topics only, not the input, alerts or state topic (${conflictOverlap.join(', ')})`,
    })
  }
  if (
    s &&
    s.ALERTING_RULE_BUDGET_WINDOW_MS < s.ALERTING_RULE_BUDGET_MS * s.ALERTING_RULE_BUDGET_OVERRUN_LIMIT
  ) {
    // Each overrun takes longer than the budget: fewer could never fit in the window.
    problems.push({
      setting: 'ALERTING_RULE_BUDGET_WINDOW_MS',
      message: `must be at least ALERTING_RULE_BUDGET_MS × ALERTING_RULE_BUDGET_OVERRUN_LIMIT (${s.ALERTING_RULE_BUDGET_MS * s.ALERTING_RULE_BUDGET_OVERRUN_LIMIT}), or no rule could ever be disabled`,
    })
  }
  if (problems.length > 0 || !connections || !s) throw new ConfigError(problems)
  return {
    kafka: connections.kafka,
    schemaRegistry: connections.schemaRegistry,
    inputTopics: s.ALERTING_INPUT_TOPICS ?? [pipelineTopics.normalized.name],
    alertsTopic: s.ALERTING_ALERTS_TOPIC,
    stateTopic: s.ALERTING_STATE_TOPIC,
    deadLetterTopic: s.ALERTING_DEAD_LETTER_TOPIC,
    conflictInputTopics: s.ALERTING_CONFLICT_INPUT_TOPICS ?? [pipelineTopics.deadLetters.name],
    groupId: s.ALERTING_GROUP_ID,
    conflictGroupId: `${s.ALERTING_GROUP_ID}-conflicts`,
    startFrom: s.ALERTING_START_FROM,
    transactionalId: s.ALERTING_TRANSACTIONAL_ID ?? s.ALERTING_GROUP_ID,
    rulesFile: s.ALERTING_RULES_FILE,
    ...(s.ALERTING_RECEIVERS_FILE && { receiversFile: s.ALERTING_RECEIVERS_FILE }),
    allowedLatenessMs: s.ALERTING_ALLOWED_LATENESS_MS,
    checkIntervalMs: s.ALERTING_CHECK_INTERVAL_MS,
    commitIntervalMs: s.ALERTING_COMMIT_INTERVAL_MS,
    idlePartitionMs: s.ALERTING_IDLE_PARTITION_MS,
    maxGroupsPerRule: s.ALERTING_MAX_GROUPS_PER_RULE,
    maxEntities: s.ALERTING_MAX_ENTITIES,
    ruleBudget: {
      budgetMs: s.ALERTING_RULE_BUDGET_MS,
      overrunLimit: s.ALERTING_RULE_BUDGET_OVERRUN_LIMIT,
      windowMs: s.ALERTING_RULE_BUDGET_WINDOW_MS,
    },
    sessionTimeoutMs: s.ALERTING_SESSION_TIMEOUT_MS,
    shutdownDeadlineMs: s.ALERTING_SHUTDOWN_DEADLINE_MS,
    retryMaxDelayMs: s.ALERTING_RETRY_MAX_DELAY_MS,
    consumer: consumerSettingsFrom(s),
    ops: opsSettingsFrom(s, { defaultPort: alertingOpsPort }),
  }
}
