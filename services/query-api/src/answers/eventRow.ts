import type { AuditEventRow } from '@audit-pipeline/clickhouse-schema'

/**
 * An `audit_events` row as the answers read it (JSONEachRow, the columns of answerColumns): the
 * row the sink writes, without where it was read from in Kafka.
 */
export type StoredEventRow = Omit<AuditEventRow, 'kafka_topic' | 'kafka_partition' | 'kafka_offset'>
