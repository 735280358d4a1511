import type { Kafka } from 'kafkajs'
import { auditTables, integrityTables, runMigrations } from '@audit-pipeline/clickhouse-schema'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  createConsumerRuntime,
  recordDeadLetter,
  renewingProducer,
  sendDeadLetters,
  waitForKafka,
} from '@audit-pipeline/kafka'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import type { SinkConfig } from './config.js'
import { eventRowInserter, rowInserter } from './delivery/insertRows.js'
import { sinkSteps } from './delivery/sinkSteps.js'
import { readStoredRows } from './delivery/storedRows.js'
import { checkpointMessages, ensureCheckpointTopic } from './integrity/checkpointTopic.js'
import { clickHouseChainStore } from './integrity/chainStore.js'
import { readStoredDigests } from './integrity/storedDigests.js'
import type { SinkMetrics } from './metrics.js'
import { createSinkTelemetry } from './sinkTelemetry.js'

const eventsTable = auditTables.events

export type SinkOptions = {
  config: SinkConfig
  kafka: Kafka
  codec: AuditEventCodec
  storage: Storage
  metrics: SinkMetrics
  log: Logger
  /** ms since the epoch: batch ages and dead letters' times. Default Date.now. */
  now?: () => number
  /**
   * Kafka failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (default 0: never): the sink stopped
   * reading and the process should exit. Nothing else ends the sink: a batch that could not be
   * written is read again from the last commit.
   */
  onGiveUp?: (error: unknown) => void
}

export type Sink = {
  /** Applies migrations, joins the consumer group and starts writing. */
  start(): Promise<void>
  /** Stops reading, writes the open batch and commits it (within the shutdown deadline), closes Kafka clients. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * The sink on the consumer runtime (packages/kafka): the runtime reads, holds partitions through
 * outages, and restarts from the last commit when a step fails; the sink's steps
 * (delivery/sinkSteps.ts) decode, skip what is stored, batch, insert, dead-letter and commit.
 * This module wires them to ClickHouse and to the producer of dead letters.
 */
export function createSink(options: SinkOptions): Sink {
  const { config, kafka, codec, storage, metrics, log } = options
  const now = options.now ?? Date.now
  const { onGiveUp } = options
  const { telemetry, health } = createSinkTelemetry(metrics, log)
  const state = { producerUp: false, stopping: false }

  const producer = renewingProducer(
    () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
    log,
  )
  const insert = eventRowInserter(storage, eventsTable)
  const insertLatest = eventRowInserter(storage, auditTables.recordLatest)
  const chainTable = `\`${storage.describe().database}\`.\`${integrityTables.chain}\``
  const chainStore = clickHouseChainStore(storage, (table) => rowInserter(storage, table))

  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      // Fetch returns once data is there; this bounds the wait on an idle partition.
      maxWaitTimeInMs: 250,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    },
    // A new group reads what is already there: audit events are never skipped.
    subscription: { topics: [...config.inputTopics], fromBeginning: true },
    requiredTopics: {
      topics: [...config.inputTopics, config.deadLetterTopic],
      settings: 'SINK_INPUT_TOPICS, SINK_DEAD_LETTER_TOPIC',
    },
    outage: config.consumer.outage,
    deadLetterGuard: config.consumer.deadLetterGuard,
    stopDeadlineMs: config.shutdownDeadlineMs,
    // Batches close by age when polled: often enough that none waits much past SINK_BATCH_MAX_AGE_MS.
    pollIntervalMs: Math.max(10, Math.min(100, Math.floor(config.batch.maxAgeMs / 4))),
    ...(onGiveUp && { onGiveUp }),
    now,
    createSteps: (context) =>
      sinkSteps(
        {
          decode: (value) => codec.decode(value),
          namespaceByTopic: config.namespaceByTopic,
          storedRows: (query) => readStoredRows(storage, eventsTable, query),
          storedDigests: (identities) => readStoredDigests(storage, chainTable, identities),
          chainStore,
          signingKey: config.integrity.signingKey,
          checkpoints: config.integrity.checkpoints,
          publishCheckpoints: async (checkpoints) => {
            await producer.send({
              topic: config.integrity.checkpointTopic,
              acks: -1,
              messages: checkpointMessages(checkpoints),
            })
          },
          insert,
          insertLatest,
          sendDeadLetters: (letters) => sendDeadLetters(producer, config.deadLetterTopic, letters),
          deadLetterOf: (record, failure) =>
            recordDeadLetter(record, failure, 'clickhouse-sink', new Date(now())),
          batch: config.batch,
          backoff: { initialDelayMs: 100, maxDelayMs: config.retryMaxDelayMs, multiplier: 2 },
          telemetry,
          now,
          failpoints: config.failpoints,
        },
        context,
      ),
  })

  return {
    async start() {
      if (config.migrate) {
        const applied = await runMigrations(storage, {
          database: storage.describe().database,
          retention: config.retention,
          ...(config.cluster && { cluster: config.cluster }),
        })
        if (applied.length > 0) log.info({ versions: applied }, 'applied schema migrations')
      }
      await waitForKafka('connect the dead-letter producer', () => producer.connect(), {
        log,
        outage: config.consumer.outage,
      })
      state.producerUp = true
      try {
        if (config.integrity.signingKey) await ensureCheckpointTopic(kafka, config.integrity.checkpointTopic)
        await runtime.start()
      } catch (error) {
        state.producerUp = false
        await producer.disconnect()
        throw error
      }
      log.info(
        {
          input: config.inputTopics,
          groupId: config.groupId,
          deadLetterTopic: config.deadLetterTopic,
          storage: storage.describe(),
          batch: config.batch,
          checkpoints: config.integrity.signingKey
            ? {
                keyId: config.integrity.signingKey.keyId,
                topic: config.integrity.checkpointTopic,
                ...config.integrity.checkpoints,
              }
            : 'off (SINK_CHECKPOINTS=false): the chain is kept, nothing signs it',
        },
        'sink started',
      )
    },

    async stop() {
      if (state.stopping) return
      state.stopping = true
      log.info({ deadlineMs: config.shutdownDeadlineMs }, 'stopping: writing the open batch')
      await runtime.stop()
      await producer.disconnect()
      state.producerUp = false
      log.info('sink stopped')
    },

    live: () => runtime.live(),
    ready: () => {
      const consumer = runtime.ready()
      const ok = consumer.ok && state.producerUp && !state.stopping && !health.clickhouseUnavailable
      return {
        ok,
        details: {
          ...consumer.details,
          producerConnected: state.producerUp,
          clickhouseUnavailable: health.clickhouseUnavailable,
          writing: health.writing,
          ...(state.stopping && { stopping: true }),
        },
      }
    },
  }
}
