import { pipelineTopics } from '@audit-pipeline/config'

/** The end-to-end section's own topics, consumer groups and ClickHouse database, from one prefix. */
export type E2eNames = {
  topics: { [K in keyof typeof pipelineTopics]: string } & { alertingState: string; checkpoints: string }
  database: string
  groups: { normalizer: string; sink: string; alerting: string; forwarderPrefix: string }
  forwarderDeadLetterPrefix: string
  forwarderRetryPrefix: string
}

/** Names for one run: `prefix` is a ClickHouse identifier and a Kafka topic name both (`bench_e2e_<stamp>`). */
export function e2eNames(prefix: string): E2eNames {
  const topic = (what: string) => `${prefix}.${what}`
  return {
    topics: {
      events: topic('events'),
      normalized: topic('normalized'),
      forward: topic('forward'),
      deadLetters: topic('dlq'),
      alerts: topic('alerts'),
      access: topic('access'),
      alertingState: topic('alerting.state'),
      checkpoints: topic('checkpoints'),
    },
    database: prefix,
    groups: {
      normalizer: `${prefix}-normalizer`,
      sink: `${prefix}-sink`,
      alerting: `${prefix}-alerting`,
      forwarderPrefix: `${prefix}-forwarder`,
    },
    forwarderDeadLetterPrefix: topic('forward.dlq.'),
    forwarderRetryPrefix: topic('forward.retry.'),
  }
}

/** The six topics the local stack makes for the pipeline, under the run's names, each as the stack makes it. */
export function e2eTopicConfigs(
  names: E2eNames,
): { topic: string; numPartitions: number; configEntries?: { name: string; value: string }[] }[] {
  return Object.entries(pipelineTopics).map(([key, spec]) => ({
    topic: names.topics[key as keyof typeof pipelineTopics],
    numPartitions: spec.partitions,
    ...('config' in spec && {
      configEntries: Object.entries(spec.config).map(([name, value]) => ({ name, value })),
    }),
  }))
}

/**
 * npm start's routes (deploy/normalizer/routes.yaml) onto the run's topics: every use of
 * `audit.normalized` and `audit.forward` renamed. Throws when another `audit.` topic is left
 * outside a comment, so a route added there later cannot send the bench's events to npm start's
 * topics unnoticed.
 */
export function e2eRoutes(deployRoutes: string, names: E2eNames): string {
  const renamed = deployRoutes.replace(
    /(?<![\w.-])audit\.(normalized|forward)(?![\w.-])/g,
    (_, topic: string) => (topic === 'normalized' ? names.topics.normalized : names.topics.forward),
  )
  const left = renamed
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.match(/(?<![\w.-])audit\.[\w.-]+/g) ?? [])
  if (left.length > 0) {
    throw new Error(
      `deploy/normalizer/routes.yaml names topics the bench does not rename: ${[...new Set(left)].join(', ')}`,
    )
  }
  return renamed
}

/**
 * What the section sets for the services, over npm start's defaults: the run's topics, groups and
 * database (everything else as npm start has it: deploy/'s routes, rules and redaction, the
 * inbox's receiver files, embedded ClickHouse in the state folder).
 */
export function e2eServiceSettings(names: E2eNames, routesFile: string): Record<string, string> {
  const { topics, groups } = names
  return {
    CLICKHOUSE_DATABASE: names.database,
    NORMALIZER_INPUT_TOPICS: topics.events,
    NORMALIZER_ROUTES_FILE: routesFile,
    NORMALIZER_DEAD_LETTER_TOPIC: topics.deadLetters,
    NORMALIZER_GROUP_ID: groups.normalizer,
    SINK_INPUT_TOPICS: [topics.normalized, topics.alerts, topics.access].join(','),
    SINK_ALERT_TOPICS: topics.alerts,
    SINK_ACCESS_TOPICS: topics.access,
    SINK_DEAD_LETTER_TOPIC: topics.deadLetters,
    SINK_CHECKPOINT_TOPIC: topics.checkpoints,
    SINK_GROUP_ID: groups.sink,
    ALERTING_INPUT_TOPICS: topics.normalized,
    ALERTING_ALERTS_TOPIC: topics.alerts,
    ALERTING_STATE_TOPIC: topics.alertingState,
    ALERTING_DEAD_LETTER_TOPIC: topics.deadLetters,
    ALERTING_CONFLICT_INPUT_TOPICS: topics.deadLetters,
    ALERTING_GROUP_ID: groups.alerting,
    ALERTING_TRANSACTIONAL_ID: groups.alerting,
    FORWARDER_INPUT_TOPICS: topics.forward,
    FORWARDER_CHECKPOINT_TOPIC: topics.checkpoints,
    FORWARDER_GROUP_ID_PREFIX: groups.forwarderPrefix,
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: names.forwarderDeadLetterPrefix,
    FORWARDER_RETRY_TOPIC_PREFIX: names.forwarderRetryPrefix,
    QUERY_API_AUDIT_TOPIC: topics.access,
  }
}

/**
 * Variables of the bench's environment the section never passes on: connections (the section
 * runs on the bench's own broker and registry, with embedded ClickHouse whose folder the gate
 * opens), the stack's folder, and the files and ports npm start makes for the run, which the
 * section relies on (its key for the query API, the inbox's secret, npm start's rules).
 */
const ownedPrefixes = ['KAFKA_', 'SCHEMA_REGISTRY_', 'CLICKHOUSE_', 'AUDIT_STACK_']
const ownedVariables = [
  'QUERY_API_PORT',
  'QUERY_API_KEYS_FILE',
  'ALERTING_RULES_FILE',
  'ALERTING_RECEIVERS_FILE',
  'FORWARDER_DESTINATIONS_FILE',
  'AUDIT_LOCAL_WEBHOOK_SECRET',
]
const servicePrefixes = ['NORMALIZER_', 'SINK_', 'ALERTING_', 'FORWARDER_', 'QUERY_API_', 'FIELD_KEYS_']

/**
 * The environment npm start gets in the section: the bench's, less what the section owns, plus
 * `settings`. Service settings the bench's environment sets and the section does not are passed on
 * as npm start would (`passedOn`, for the report).
 */
export function e2eEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  settings: Readonly<Record<string, string>>,
): { env: Record<string, string>; passedOn: string[] } {
  const kept = Object.entries(env).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined &&
      !ownedPrefixes.some((prefix) => entry[0].startsWith(prefix)) &&
      !ownedVariables.includes(entry[0]) &&
      !(entry[0] in settings),
  )
  const passedOn = kept
    .filter(([name]) => servicePrefixes.some((prefix) => name.startsWith(prefix)))
    .map(([name, value]) => `${name}=${value}`)
  return { env: { ...Object.fromEntries(kept), ...settings }, passedOn }
}
