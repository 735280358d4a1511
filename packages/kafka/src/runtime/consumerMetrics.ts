import { Counter, Gauge, type Registry } from 'prom-client'

/** What every consumer reports the same way, named after its service: `<prefix>_consumer_lag` … */
export type ConsumerMetrics = {
  lag: Gauge<'group' | 'topic' | 'partition'>
  registryRetries: Counter<'group'>
  restarts: Counter<'group' | 'reason'>
  kafkaUnavailable: Gauge<'group'>
  deadLetterGuardTripped: Gauge<'group'>
  pausedSeconds: Counter<'group'>
  recordsFailed: Counter<'group' | 'error_class'>
}

/** Declares the consumer metrics on `registry` once per service; every consumer of it labels by group. */
export function createConsumerMetrics(registry: Registry, prefix: string): ConsumerMetrics {
  const registers = [registry]
  return {
    lag: new Gauge({
      name: `${prefix}_consumer_lag`,
      help: 'Messages behind the end of each partition, after the last batch read',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    }),
    registryRetries: new Counter({
      name: `${prefix}_registry_retries_total`,
      help: 'Decodes retried because the schema registry did not answer (the partition held meanwhile)',
      labelNames: ['group'],
      registers,
    }),
    restarts: new Counter({
      name: `${prefix}_consumer_restarts_total`,
      help: 'Times the consumer was restarted from its last commit after a failure (reason: kafka, step)',
      labelNames: ['group', 'reason'],
      registers,
    }),
    kafkaUnavailable: new Gauge({
      name: `${prefix}_kafka_unavailable`,
      help: '1 while the consumer waits for Kafka (or restarts after a failure), else 0',
      labelNames: ['group'],
      registers,
    }),
    deadLetterGuardTripped: new Gauge({
      name: `${prefix}_dead_letter_guard_tripped`,
      help: '1 while input is paused because too large a share of records was dead-lettered',
      labelNames: ['group'],
      registers,
    }),
    pausedSeconds: new Counter({
      name: `${prefix}_consumer_paused_seconds_total`,
      help: 'Time reading waited for a step downstream (backpressure) or a guard, seconds',
      labelNames: ['group'],
      registers,
    }),
    recordsFailed: new Counter({
      name: `${prefix}_records_failed_total`,
      help: 'Records whose processing failed and that were dead-lettered, by error class',
      labelNames: ['group', 'error_class'],
      registers,
    }),
  }
}
