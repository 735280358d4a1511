import type { Kafka, Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { createConsumerRuntime, type ConsumerSettings } from '@audit-pipeline/kafka'
import type { CheckReport, Logger } from '@audit-pipeline/service-runtime'
import { breakerStates, createBreaker } from '../delivery/circuitBreaker.js'
import type { Destination } from '../destinations/destination.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Transport } from '../senders/transport.js'
import { destinationSteps } from './destinationSteps.js'

export type DestinationTopics = {
  /** The forwarded topics, or for a checkpoints destination the checkpoints topic. */
  input: readonly string[]
  groupId: string
  deadLetterTopic: string
  retryTopic: string
}

export type DestinationWorkerOptions = {
  destination: Destination
  topics: DestinationTopics
  kafka: Kafka
  /** Shared by the destinations, connected by the caller: writes dead letters. */
  producer: Pick<Producer, 'send'>
  codec: AuditEventCodec
  transport: Transport
  metrics: ForwarderMetrics
  log: Logger
  sessionTimeoutMs: number
  /** Partitions fetched at once, and batches delivered at once (each partition's in order). */
  partitionsConsumedConcurrently: number
  /** Outages and the dead-letter guard. */
  consumer: ConsumerSettings
  /** How long stop may take to deliver and commit what was read. */
  stopDeadlineMs: number
  /** The runtime failed for longer than KAFKA_OUTAGE_GIVE_UP_MS (never, by default). */
  onGiveUp?: (error: unknown) => void
  now?: () => number
}

export type DestinationWorker = {
  readonly name: string
  start(): Promise<void>
  /** Stops reading; what was read is delivered (or dead-lettered) and committed within the deadline. */
  stop(): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/** Longest a fetch waits for data at the broker, ms: batches are closed by age in batchEvents. */
const maxFetchWaitMs = 250

/**
 * One destination's delivery: its own consumer group over the forwarded topics and its retry
 * topic, so its progress is its own (a dead destination holds back nobody else). The consumer
 * runtime (packages/kafka) reads, holds partitions through outages and restarts from the last
 * commit after a failure; the steps (destinationSteps.ts) decode, prepare, batch, deliver,
 * dead-letter and commit. The circuit breaker and the transport outlive restarts.
 */
export function createDestinationWorker(options: DestinationWorkerOptions): DestinationWorker {
  const { destination, topics, metrics } = options
  const name = destination.name
  const log = options.log.child({ destination: name })
  const now = options.now ?? Date.now
  const delivering = { count: 0 }

  const breaker = createBreaker(destination.breaker, (breakerState) => {
    metrics.breakerState.set({ destination: name }, breakerStates[breakerState])
    const level = breakerState === 'open' ? 'warn' : 'info'
    log[level]({ breaker: breakerState }, `circuit breaker ${breakerState}`)
  })
  metrics.breakerState.set({ destination: name }, 0)

  const runtime = createConsumerRuntime({
    kafka: options.kafka,
    log,
    metrics: metrics.consumer,
    group: {
      groupId: topics.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      maxWaitTimeInMs: Math.min(destination.batch.maxAgeMs, maxFetchWaitMs),
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
    },
    // A new destination starts from the beginning of the retained topic: nothing is skipped.
    subscription: { topics: [...topics.input, topics.retryTopic], fromBeginning: true },
    requiredTopics: {
      topics: [...topics.input, topics.retryTopic, topics.deadLetterTopic],
      ...(destination.input === 'checkpoints'
        ? {
            settings:
              'FORWARDER_CHECKPOINT_TOPIC, FORWARDER_RETRY_TOPIC_PREFIX, FORWARDER_DEAD_LETTER_TOPIC_PREFIX',
            hint: 'the ClickHouse sink creates the checkpoints topic when it starts with a signing key (its SINK_CHECKPOINT_TOPIC); the forwarder never does (it creates its retry and dead-letter topics at start-up with FORWARDER_CREATE_TOPICS=true)',
          }
        : {
            settings:
              'FORWARDER_INPUT_TOPICS, FORWARDER_RETRY_TOPIC_PREFIX, FORWARDER_DEAD_LETTER_TOPIC_PREFIX',
            hint: 'create them, or start the normalizer, which creates its outputs (the forwarder creates its retry and dead-letter topics at start-up with FORWARDER_CREATE_TOPICS=true)',
          }),
    },
    outage: options.consumer.outage,
    deadLetterGuard: options.consumer.deadLetterGuard,
    stopDeadlineMs: options.stopDeadlineMs,
    ...(options.onGiveUp && { onGiveUp: options.onGiveUp }),
    createSteps: (context) =>
      destinationSteps(
        {
          destination,
          codec: options.codec,
          transport: options.transport,
          breaker,
          producer: options.producer,
          deadLetterTopic: topics.deadLetterTopic,
          maxBatchesInFlight: options.partitionsConsumedConcurrently,
          metrics,
          log,
          now,
          delivering,
        },
        context,
      ),
  })

  return {
    name,
    async start() {
      await runtime.start()
      log.info(
        {
          groupId: topics.groupId,
          reads: destination.input,
          input: topics.input,
          retryTopic: topics.retryTopic,
          deadLetterTopic: topics.deadLetterTopic,
        },
        'destination started',
      )
    },
    async stop() {
      await runtime.stop()
      breaker.shutdown()
      await options.transport.close()
    },
    live: () => runtime.live(),
    ready: () => {
      const consumer = runtime.ready()
      return {
        ok: consumer.ok,
        details: { ...consumer.details, delivering: delivering.count > 0, breaker: breaker.state() },
      }
    },
  }
}
