import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { createConsumerMetrics } from '@audit-pipeline/kafka'

/** Every metric the forwarder exports, declared on the registry given (a fresh one per test). */
export function createForwarderMetrics(registry: Registry) {
  const registers = [registry]
  return {
    /**
     * Lag, registry retries, restarts, records failed, the dead-letter guard: the consumer
     * runtime's, as in every service. Declared once; each destination's runtime labels by its
     * consumer group (`<FORWARDER_GROUP_ID_PREFIX>.<destination>`).
     */
    consumer: createConsumerMetrics(registry, 'audit_forwarder'),
    delivered: new Counter({
      name: 'audit_forwarder_events_delivered_total',
      help: 'Events the destination took, by destination.',
      labelNames: ['destination'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'audit_forwarder_events_filtered_out_total',
      help: "Events the destination's filter did not want, by destination.",
      labelNames: ['destination'] as const,
      registers,
    }),
    retries: new Counter({
      name: 'audit_forwarder_delivery_retries_total',
      help: 'Batches sent again after a retriable failure, by destination and reason (HTTP_503, CONNECT_REFUSED, …).',
      labelNames: ['destination', 'reason'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'audit_forwarder_events_dead_lettered_total',
      help: 'Events written to the destination’s dead-letter topic, by destination and error class.',
      labelNames: ['destination', 'error_class'] as const,
      registers,
    }),
    batches: new Counter({
      name: 'audit_forwarder_batches_total',
      help: 'Batches finished (delivered or dead-lettered) and committed, by destination and outcome.',
      labelNames: ['destination', 'outcome'] as const,
      registers,
    }),
    deliverySeconds: new Histogram({
      name: 'audit_forwarder_delivery_duration_seconds',
      help: 'One batch from first attempt to delivered or given up, retries included, by destination.',
      labelNames: ['destination'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    breakerState: new Gauge({
      name: 'audit_forwarder_breaker_state',
      help: 'Circuit breaker per destination: 0 closed, 1 half open, 2 open.',
      labelNames: ['destination'] as const,
      registers,
    }),
  }
}

export type ForwarderMetrics = ReturnType<typeof createForwarderMetrics>
