import { Counter, Histogram, type Registry } from 'prom-client'
import { createConsumerMetrics } from '@audit-pipeline/kafka'

/** Every metric the sink exports, declared on the registry given (a fresh one per test). */
export function createSinkMetrics(registry: Registry) {
  const registers = [registry]
  return {
    /**
     * Lag (`audit_sink_consumer_lag{group,topic,partition}`), registry retries, restarts, the
     * dead-letter guard: the consumer runtime's, as in every service.
     */
    consumer: createConsumerMetrics(registry, 'audit_sink'),
    rowsWritten: new Counter({
      name: 'audit_sink_rows_inserted_total',
      help: 'Rows ClickHouse confirmed, by table.',
      labelNames: ['table'] as const,
      registers,
    }),
    batches: new Counter({
      name: 'audit_sink_batches_total',
      help: 'Batches written and committed, by what closed them (rows, bytes, age, shutdown).',
      labelNames: ['reason'] as const,
      registers,
    }),
    batchRows: new Histogram({
      name: 'audit_sink_batch_rows',
      help: 'Rows per batch.',
      buckets: [1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'audit_sink_insert_duration_seconds',
      help: 'One batch insert and its dead letters, retries included, seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: 'audit_sink_clickhouse_retries_total',
      help: 'ClickHouse calls retried because it was unavailable, slow or overloaded, by operation (insert, lookup).',
      labelNames: ['operation'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'audit_sink_dead_lettered_total',
      help: 'Messages sent to the dead-letter topic, by reason (ROW_REJECTED, EVENT_ID_CONFLICT, RESERVED_NAMESPACE, EVENT_UNDECODABLE, SCHEMA_UNKNOWN, RECORD_FAILED).',
      labelNames: ['reason'] as const,
      registers,
    }),
    alreadyStored: new Counter({
      name: 'audit_sink_already_stored_total',
      help: 'Messages skipped because a row with their offset and event_id was stored before a crash or rebalance.',
      registers,
    }),
    replays: new Counter({
      name: 'audit_sink_replays_total',
      help: 'Events the trail held already with the same content (a producer or normalizer replay): committed, not stored again.',
      registers,
    }),
    conflicts: new Counter({
      name: 'audit_sink_event_id_conflicts_total',
      help: 'Events whose (tenant, event_id) the trail held with other content: refused and dead-lettered as EVENT_ID_CONFLICT, the original kept.',
      registers,
    }),
    chainEntries: new Counter({
      name: 'audit_sink_chain_entries_total',
      help: 'Hash-chain entries written (one per stored event).',
      registers,
    }),
    checkpoints: new Counter({
      name: 'audit_sink_checkpoints_total',
      help: 'Signed checkpoints written to ClickHouse and the checkpoints topic.',
      registers,
    }),
    backpressureSeconds: new Counter({
      name: 'audit_sink_backpressure_seconds_total',
      help: 'Time reading waited for the batch before to be written (ClickHouse slow or unavailable), seconds.',
      registers,
    }),
  }
}

export type SinkMetrics = ReturnType<typeof createSinkMetrics>
