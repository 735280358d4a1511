import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { auditTables } from '@audit-pipeline/clickhouse-schema'
import {
  createSink,
  createSinkMetrics,
  loadSinkConfig,
  type Sink,
  type SinkConfig,
} from '@audit-pipeline/clickhouse-sink'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { testSigningKeyFile } from '@audit-pipeline/testing'

/** The sink's own metrics after a run, from its registry (audit_sink_*). */
export type SinkFigures = {
  rowsInserted: number
  batches: number
  /** audit_sink_insert_duration_seconds: each batch's insert and commit, summed (batches are written one at a time). */
  insertSeconds: number
  /** audit_sink_backpressure_seconds_total: time partitions waited for a batch to be written, summed over partitions. */
  backpressureSeconds: number
  deadLettered: number
  retries: number
}

export type RunningSink = {
  sink: Sink
  config: SinkConfig
  figures: () => Promise<SinkFigures>
  /** Whether the sink's consumer has been handed a batch of messages yet. */
  reading: () => Promise<boolean>
}

/** Set by the bench for each run; the other SINK_* variables of its environment pass through. */
export const sinkBenchSettings = ['SINK_INPUT_TOPICS', 'SINK_GROUP_ID', 'SINK_DEAD_LETTER_TOPIC']

/** SINK_* variables of `env` that apply to the sink under test: all but its topics and group. */
export function sinkOverrides(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith('SINK_') && !sinkBenchSettings.includes(entry[0]) && entry[1] !== undefined,
    ),
  )
}

/**
 * The sink's configuration for one bench run, through its own loader: embedded ClickHouse in
 * `dataPath`, `database`, reading `topic` with a fresh group; SINK_* `overrides` apply too.
 */
export function benchSinkConfig(options: {
  brokers: string[]
  registryUrl: string
  dataPath: string
  database: string
  topic: string
  groupId: string
  deadLetterTopic: string
  overrides: Record<string, string>
}): SinkConfig {
  return loadSinkConfig({
    // Signed checkpoints, as deployed; SINK_CHECKPOINTS=false in the environment measures without.
    SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
    ...options.overrides,
    KAFKA_BROKERS: options.brokers.join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl,
    CLICKHOUSE_EMBEDDED_PATH: options.dataPath,
    CLICKHOUSE_DATABASE: options.database,
    SINK_INPUT_TOPICS: options.topic,
    SINK_GROUP_ID: options.groupId,
    SINK_DEAD_LETTER_TOPIC: options.deadLetterTopic,
    OPS_PORT: '0',
  })
}

/**
 * The sink in this process, built as services/clickhouse-sink/src/main.ts builds it (a codec
 * that does not register schemas, its metrics and logger) with `config`, writing to `storage`
 * (embedded, opened on the config's database, which exists). Not started.
 */
export async function createBenchSink(config: SinkConfig, storage: Storage): Promise<RunningSink> {
  const codec = await createAuditEventCodec({
    registry: new SchemaRegistry({ host: config.schemaRegistry.url }),
    autoRegister: false,
  })
  const registry = new Registry()
  const kafka = new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
  })
  // The sink builds its consumer from `kafka`: watch it for the first batch it is handed.
  let reading = false
  const consumerOf = kafka.consumer.bind(kafka)
  kafka.consumer = (consumerConfig) => {
    const consumer = consumerOf(consumerConfig)
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize > 0) reading = true
    })
    return consumer
  }
  const sink = createSink({
    config,
    kafka,
    codec,
    storage,
    metrics: createSinkMetrics(registry),
    log: createLogger({ service: 'clickhouse-sink', level: 'warn' }),
  })
  // Counters' values carry no metricName; a histogram's are named <name>_sum, <name>_count, ….
  const total = async (metric: string, name = metric) => {
    const metricValues = await registry.getSingleMetric(metric)?.get()
    const values: { value: number; metricName?: string }[] = metricValues?.values ?? []
    return values.filter((v) => (v.metricName ?? metric) === name).reduce((sum, v) => sum + v.value, 0)
  }
  const insert = 'audit_sink_insert_duration_seconds'
  return {
    sink,
    config,
    reading: () => Promise.resolve(reading),
    figures: async () => ({
      rowsInserted: await total('audit_sink_rows_inserted_total'),
      batches: await total(insert, `${insert}_count`),
      insertSeconds: await total(insert, `${insert}_sum`),
      backpressureSeconds: await total('audit_sink_backpressure_seconds_total'),
      deadLettered: await total('audit_sink_dead_lettered_total'),
      retries: await total('audit_sink_clickhouse_retries_total'),
    }),
  }
}

/** `<database>.audit_events`, where the sink writes and the bench counts. */
export function eventsTableOf(storage: Storage): string {
  return `${storage.describe().database}.${auditTables.events}`
}

/** What the sink says when it stops making progress: its liveness details. */
export function sinkDiagnosis(sink: Sink): () => Promise<string | undefined> {
  return () => {
    const live = sink.live()
    const ready = sink.ready()
    return Promise.resolve(
      live.ok ? `ready: ${JSON.stringify(ready.details)}` : `not live: ${JSON.stringify(live.details)}`,
    )
  }
}
