/**
 * The headers a dead letter carries on top of the original message's own. Every value is a
 * UTF-8 string. The prefix is reserved: a message dead-lettered again after a replay has its
 * previous `audit-dlq-*` headers replaced, never duplicated.
 */
export const deadLetterHeaderPrefix = 'audit-dlq-'

export const deadLetterHeaderNames = {
  /** A low-cardinality code from the writing service's closed list (EVENT_INVALID, …); labels metrics. */
  errorClass: 'audit-dlq-error-class',
  /** Optional finer code (NOT_JSON, WRONG_MAGIC_BYTE, …). */
  errorReason: 'audit-dlq-error-reason',
  /** For people: capped at `maxErrorMessageBytes`, cut on a character boundary, ending in an ellipsis. */
  errorMessage: 'audit-dlq-error-message',
  sourceTopic: 'audit-dlq-source-topic',
  sourcePartition: 'audit-dlq-source-partition',
  sourceOffset: 'audit-dlq-source-offset',
  /** The original's Kafka timestamp: epoch milliseconds as a decimal string. */
  sourceTimestamp: 'audit-dlq-source-timestamp',
  /** When the message was dead-lettered: ISO-8601, UTC. */
  failedAt: 'audit-dlq-failed-at',
  /** Which service dead-lettered it: normalizer, clickhouse-sink, forwarder:siem, … */
  service: 'audit-dlq-service',
  /** EVENT_ID_CONFLICT only: the tenant and event id both copies claim. */
  conflictTenant: 'audit-dlq-conflict-tenant',
  conflictEventId: 'audit-dlq-conflict-event-id',
  /**
   * EVENT_ID_CONFLICT only: the content digest of the copy kept (packages/integrity): from the
   * sink, the one the trail holds; from the normalizer, the one it sent first within its dedup
   * window (the sink decides which the trail keeps: a forged copy sent first after a restart is
   * refused there, and the normalizer may then refuse the genuine replay against it).
   */
  storedDigest: 'audit-dlq-stored-digest',
  /** EVENT_ID_CONFLICT only: the content digest of the copy refused (this message's event). */
  refusedDigest: 'audit-dlq-refused-digest',
  /**
   * Set on a sealed dead letter (sealedDeadLetter.ts): the id of the data key its value is sealed
   * under. The value is then a sealed value (packages/field-encryption) of the original bytes, and
   * the error message header a fixed text: the original bytes are read only by holders of the
   * key, and by nobody once the data subject is erased.
   */
  sealed: 'audit-dlq-sealed',
  /** A sealed dead letter's error message, sealed under the same key (it may quote the message). */
  sealedErrorMessage: 'audit-dlq-sealed-error-message',
} as const

export type DeadLetterHeaderName = (typeof deadLetterHeaderNames)[keyof typeof deadLetterHeaderNames]

/**
 * Added to a replayed message: `<dlqTopic>/<partition>/<offset>` of the dead letter it came from,
 * so a message that fails again can be traced to its earlier failure.
 */
export const replayedFromHeaderName = 'audit-replayed-from'

/**
 * The error message header's cap. Kafka headers share the record's size limit with the value,
 * and a stack trace or a validation report can be long; 4 KiB keeps the reason readable.
 */
export const maxErrorMessageBytes = 4096

export function isDeadLetterHeader(name: string): boolean {
  return name.startsWith(deadLetterHeaderPrefix)
}
