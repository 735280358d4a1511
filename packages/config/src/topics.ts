/**
 * The pipeline's Kafka topics. Producers write `events`; the normalizer reads it and writes
 * `normalized` (read by the ClickHouse sink and the alerting service), `forward` (read by the
 * forwarder) and `deadLetters`; the alerting service writes `alerts` and the query API `access`,
 * which the sink stores too. Alerts and access records come only from their own topics
 * (event-model's reservedNamespaces): each is writable by its one service (README, "Kafka ACLs").
 * The local stack creates them; on an existing cluster they are created by its operators.
 */
export const pipelineTopics = {
  /**
   * What producers (SDK, CLI) send: Avro audit events in the Confluent wire format, or JSON.
   * Segments roll hourly: records `audit-pipeline erase` deletes leave the disk with their
   * segment, and the active segment is never deleted, so this bounds how long their bytes stay.
   */
  events: { name: 'audit.events', partitions: 6, config: { 'segment.ms': String(60 * 60_000) } },
  /** Canonical events for storage: Avro, the current schema, keyed by object. */
  normalized: { name: 'audit.normalized', partitions: 6 },
  /** Canonical events for external systems, same form. */
  forward: { name: 'audit.forward', partitions: 6 },
  /** Messages the normalizer could not turn into events: original bytes, headers saying why. */
  deadLetters: { name: 'audit.dlq', partitions: 6 },
  /** Alerts the alerting service raised, as canonical events (object type `alert`): stored by the sink. */
  alerts: { name: 'audit.alerts', partitions: 6 },
  /**
   * The query API's access records, as canonical events (object type `audit_query`): stored by the
   * sink. Their own topic, writable by the query API only, so no producer can forge or bury one.
   */
  access: { name: 'audit.access', partitions: 6 },
} as const

export type PipelineTopic = (typeof pipelineTopics)[keyof typeof pipelineTopics]

/**
 * The normalizer's consumer group when NORMALIZER_GROUP_ID is unset. Its committed offsets say
 * which input it has handled, which `audit-pipeline erase` reads to remove that input.
 */
export const defaultNormalizerGroupId = 'audit-normalizer'
