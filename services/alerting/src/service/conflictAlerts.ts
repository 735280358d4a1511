import type { Kafka } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { chunksOfBytes, createConsumerRuntime, recordBytes, renewingProducer } from '@audit-pipeline/kafka'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import type { AlertingConfig } from '../config.js'
import type { AlertingMetrics } from '../metrics.js'
import { conflictSteps } from './conflictSteps.js'

export type ConflictAlertsOptions = {
  config: Pick<
    AlertingConfig,
    | 'alertsTopic'
    | 'conflictInputTopics'
    | 'conflictGroupId'
    | 'startFrom'
    | 'sessionTimeoutMs'
    | 'shutdownDeadlineMs'
    | 'consumer'
  >
  kafka: Kafka
  codec: Pick<AuditEventCodec, 'encode'>
  metrics: AlertingMetrics
  log: Logger
  /** The consumer failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (never, by default). */
  onGiveUp?: (error: unknown) => void
}

export type ConflictAlerts = {
  start(): Promise<void>
  /** Stops reading; the batch read so far is written and committed within the deadline. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/** Per produce request; half the broker's default `message.max.bytes`. */
const maxProduceBytes = 512 * 1024

/**
 * Raises a critical security alert for every EVENT_ID_CONFLICT dead letter (an event id sent again
 * with other content, refused by the normalizer or the ClickHouse sink): its own consumer group
 * on the dead-letter topics (ALERTING_CONFLICT_INPUT_TOPICS, read_committed), on the consumer
 * runtime (packages/kafka), which owns the group, lag, outages and restarts. The steps
 * (conflictSteps.ts) write each alert to the alerts topic with an idempotent producer, acks=all,
 * and commit after; the webhook deliveries read the alerts topic, so it reaches the receivers as
 * any alert does. Not the evaluator's transactional producer: these alerts need no state, and a
 * dead-letter topic busy with other classes must not hold back the rules' alerts.
 */
export function createConflictAlerts(options: ConflictAlertsOptions): ConflictAlerts {
  const { config, kafka, codec, metrics, log } = options
  const producer = renewingProducer(
    () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
    log,
  )
  const send = async (messages: Parameters<typeof chunksOfBytes>[0]) => {
    for (const chunk of chunksOfBytes(messages, maxProduceBytes, recordBytes)) {
      await producer.send({ topic: config.alertsTopic, acks: -1, messages: chunk })
    }
  }
  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: config.conflictGroupId,
      // The evaluator writes its dead letters in transactions: an aborted one is no dead letter.
      readUncommitted: false,
      sessionTimeout: config.sessionTimeoutMs,
      maxWaitTimeInMs: 100,
    },
    subscription: {
      topics: [...config.conflictInputTopics],
      fromBeginning: config.startFrom === 'earliest',
    },
    requiredTopics: {
      topics: [...config.conflictInputTopics],
      settings: 'ALERTING_CONFLICT_INPUT_TOPICS',
      hint: 'create them, or start the normalizer, which creates its dead-letter topic',
    },
    outage: config.consumer.outage,
    stopDeadlineMs: config.shutdownDeadlineMs,
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    createSteps: (context) => conflictSteps({ codec, send, metrics, log }, context),
  })

  return {
    start: () => runtime.start(),
    async stop() {
      await runtime.stop()
      await producer.disconnect()
    },
    live: () => runtime.live(),
    ready: () => runtime.ready(),
  }
}
