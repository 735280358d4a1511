import { Counter, Histogram, type Registry } from 'prom-client'
import { createConsumerMetrics } from '@audit-pipeline/kafka'

/** Every metric the normalizer exports, declared on the registry given (a fresh one per test). */
export function createNormalizerMetrics(registry: Registry) {
  const registers = [registry]
  return {
    /** Lag, registry retries, restarts, the dead-letter guard: the consumer runtime's, as in every service. */
    consumer: createConsumerMetrics(registry, 'audit_normalizer'),
    consumed: new Counter({
      name: 'audit_normalizer_messages_consumed_total',
      help: 'Input messages taken, by topic (counted once their outputs are acknowledged).',
      labelNames: ['topic'] as const,
      registers,
    }),
    produced: new Counter({
      name: 'audit_normalizer_events_produced_total',
      help: 'Normalized events written and acknowledged, by route and output topic.',
      labelNames: ['route', 'topic'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'audit_normalizer_events_dropped_total',
      help: 'Events discarded by a drop route, by route and reason.',
      labelNames: ['route', 'reason'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'audit_normalizer_messages_skipped_total',
      help: 'Messages that hold no audit event (tombstones, Debezium heartbeats, snapshot reads…), by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'audit_normalizer_events_dead_lettered_total',
      help: 'Messages written to the dead-letter topic, by error class.',
      labelNames: ['reason'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'audit_normalizer_duplicates_dropped_total',
      help: 'Events dropped because an event with the same event_id went out within the dedup window.',
      registers,
    }),
    reduced: new Counter({
      name: 'audit_normalizer_events_reduced_total',
      help: 'Events written and acknowledged below full logging (a temporal or informative level under 3), by the levels applied.',
      labelNames: ['temporal', 'informative'] as const,
      registers,
    }),
    processingSeconds: new Histogram({
      name: 'audit_normalizer_processing_seconds',
      help: 'From a message’s Kafka timestamp to its outputs being acknowledged, seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'audit_normalizer_flush_seconds',
      help: 'Sending one flush of outputs with acks=all, until Kafka acknowledged it, seconds (its commit follows in order).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    routeReloads: new Counter({
      name: 'audit_normalizer_route_reloads_total',
      help: 'Routes reloads on SIGHUP, by result (applied or refused).',
      labelNames: ['result'] as const,
      registers,
    }),
  }
}

export type NormalizerMetrics = ReturnType<typeof createNormalizerMetrics>
