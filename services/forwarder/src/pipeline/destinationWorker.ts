import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message, Producer } from 'kafkajs'
import { CodecError, type AuditEventCodec } from '@audit-pipeline/codec'
import { buildDeadLetter } from '@audit-pipeline/dead-letter'
import { retryWithBackoff, type CheckReport, type Logger } from '@audit-pipeline/service-runtime'
import { breakerStates, createBreaker, type Breaker } from '../delivery/circuitBreaker.js'
import { deliverWithRetries } from '../delivery/deliverWithRetries.js'
import type { Destination } from '../destinations/destination.js'
import { batchIdFor } from '../format/batchId.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Transport } from '../senders/transport.js'
import { chunksOfBytes } from '@audit-pipeline/kafka'
import { cutBatches, type Batch } from './cutBatches.js'
import { prepareEvent } from './prepareEvent.js'

export type DestinationTopics = {
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
  producer: Producer
  codec: AuditEventCodec
  transport: Transport
  metrics: ForwarderMetrics
  log: Logger
  sessionTimeoutMs: number
  partitionsConsumedConcurrently: number
  now?: () => number
  /** A batch could not be dead-lettered: nothing more is committed; the process should exit. */
  onFatal?: (error: unknown) => void
}

export type DestinationWorker = {
  readonly name: string
  start(): Promise<void>
  /** Stops taking batches; the one in flight finishes (or `deadline` aborts it, uncommitted). */
  stop(deadline: Promise<unknown>): Promise<void>
  live(): CheckReport
  ready(): CheckReport
}

/**
 * Dead letters per produce request, by the bytes of their values: a batch of many events in one
 * request could pass the broker's 1 MiB record batch limit.
 */
const deadLetterChunkBytes = 512 * 1024

type Item =
  | { kind: 'send'; offset: string; message: KafkaMessage; eventId: string; entry: string; bytes: number }
  | { kind: 'skip'; offset: string; message: KafkaMessage }
  | { kind: 'deadLetter'; offset: string; message: KafkaMessage; errorClass: string; why: string }

/**
 * One destination's delivery: its own consumer group over the forwarded topics and its retry
 * topic, so its progress is its own (a dead destination holds back nobody else). Per partition,
 * in offset order: decode, filter, project and format each event, cut batches by count and
 * bytes, send each batch until delivered or given up (then its events go to the destination's
 * dead-letter topic with the last error), and only then commit the offset after the batch.
 */
export function createDestinationWorker(options: DestinationWorkerOptions): DestinationWorker {
  const { destination, topics, kafka, producer, codec, transport, metrics, log: parentLog } = options
  const name = destination.name
  const log = parentLog.child({ destination: name })
  const now = options.now ?? Date.now
  const stopping = new AbortController()
  const state = { joined: false, delivering: 0, crashed: undefined as string | undefined, closing: false }
  let failed: Error | undefined

  const breaker: Breaker = createBreaker(destination.breaker, (breakerState) => {
    metrics.breakerState.set({ destination: name }, breakerStates[breakerState])
    const level = breakerState === 'open' ? 'warn' : 'info'
    log[level]({ breaker: breakerState }, `circuit breaker ${breakerState}`)
  })
  metrics.breakerState.set({ destination: name }, 0)

  const consumer: Consumer = kafka.consumer({
    groupId: topics.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.floor(options.sessionTimeoutMs / 10),
    // Batches by age: the broker holds a fetch until it has a batch's bytes or the age is reached.
    maxWaitTimeInMs: destination.batch.maxAgeMs,
    minBytes: Math.min(destination.batch.maxBytes, 1_048_576),
    allowAutoTopicCreation: false,
  })
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    state.joined = true
    log.info({ groupId: topics.groupId, assigned: payload.memberAssignment }, 'joined the consumer group')
  })
  consumer.on(consumer.events.REBALANCING, () => {
    state.joined = false
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    state.joined = false
    log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed')
    if (!payload.restart) state.crashed = payload.error.message
  })

  const retriableDecode = (error: unknown) =>
    error instanceof CodecError && error.retriable && !stopping.signal.aborted
  /** Decodes; while the registry is unavailable, waits and tries again (the retry loop only then: it costs per event). */
  const decode = async (value: Buffer) => {
    try {
      return await codec.decode(value)
    } catch (error) {
      if (!retriableDecode(error)) throw error
      return retryWithBackoff(() => codec.decode(value), {
        isRetriable: retriableDecode,
        policy: { initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2 },
        signal: stopping.signal,
        onRetry: (failure, attempt) =>
          log.warn({ err: failure, attempt }, 'schema registry unavailable; retrying'),
      })
    }
  }

  const prepare = async (message: KafkaMessage): Promise<Item> => {
    const { offset } = message
    if (message.value === null) {
      return {
        kind: 'deadLetter',
        offset,
        message,
        errorClass: 'EVENT_UNDECODABLE',
        why: 'a null value (tombstone) holds no event',
      }
    }
    let event
    try {
      event = await decode(message.value)
    } catch (error) {
      if (!(error instanceof CodecError) || error.retriable) throw error
      return { kind: 'deadLetter', offset, message, errorClass: error.code, why: error.message }
    }
    const prepared = prepareEvent(event, destination)
    switch (prepared.kind) {
      case 'send':
        return { ...prepared, offset, message }
      case 'skip':
        return { kind: 'skip', offset, message }
      case 'deadLetter':
        return { kind: 'deadLetter', offset, message, errorClass: prepared.errorClass, why: prepared.message }
    }
  }

  const deadLetterOf = (
    topic: string,
    partition: number,
    item: Item,
    errorClass: string,
    why: string,
    reason?: string,
  ): Message =>
    buildDeadLetter({
      source: {
        topic,
        partition,
        offset: item.offset,
        timestamp: item.message.timestamp,
        key: item.message.key,
        value: item.message.value,
        ...(item.message.headers && { headers: item.message.headers }),
      },
      error: { errorClass, ...(reason !== undefined && { reason }), message: why },
      service: `forwarder:${name}`,
      now: new Date(now()),
    })

  /** Delivers one batch (or gives up on it), writes its dead letters, commits after it. */
  const finish = async (payload: EachBatchPayload, batch: Batch<Item>) => {
    const { topic, partition } = payload.batch
    const sends = batch.items.filter((item): item is Extract<Item, { kind: 'send' }> => item.kind === 'send')
    const letters: Message[] = []
    const lettersByClass = new Map<string, number>()
    const addLetter = (item: Item, errorClass: string, why: string, reason?: string) => {
      letters.push(deadLetterOf(topic, partition, item, errorClass, why, reason))
      lettersByClass.set(errorClass, (lettersByClass.get(errorClass) ?? 0) + 1)
    }
    for (const item of batch.items) {
      if (item.kind !== 'deadLetter') continue
      addLetter(item, item.errorClass, item.why)
      // The event never reached a filter decision or never decoded: say so, without its content.
      log.warn(
        { topic, partition, offset: item.offset, errorClass: item.errorClass, error: item.why },
        'event dead-lettered before delivery',
      )
    }

    let outcome: 'delivered' | 'dead_lettered' | 'none' = 'none'
    if (sends.length > 0) {
      const eventIds = sends.map((item) => item.eventId)
      const body = Buffer.from(destination.format.body(sends.map((item) => item.entry)))
      const id = batchIdFor(eventIds)
      const started = performance.now()
      state.delivering++
      const heartbeat = setInterval(
        () => {
          payload.heartbeat().catch((error: unknown) => log.debug({ err: error }, 'heartbeat failed'))
        },
        Math.max(1_000, Math.floor(options.sessionTimeoutMs / 6)),
      )
      try {
        const result = await deliverWithRetries(
          () => transport.send({ id, body, eventIds }, stopping.signal),
          {
            policy: destination.retry,
            guard: (attempt) => breaker.guard(attempt),
            breakerWaitMs: Math.min(destination.breaker.resetTimeoutMs, destination.retry.maxDelayMs),
            signal: stopping.signal,
            onRetry: (error, attempt, delayMs) => {
              metrics.retries.inc({ destination: name, reason: error.reason })
              log.warn(
                {
                  code: error.code,
                  reason: error.reason,
                  error: error.message,
                  attempt,
                  delayMs,
                  events: sends.length,
                },
                'delivery failed; retrying',
              )
            },
          },
        )
        metrics.deliverySeconds.observe({ destination: name }, (performance.now() - started) / 1000)
        if (result.delivered) {
          outcome = 'delivered'
        } else {
          outcome = 'dead_lettered'
          const { error } = result
          for (const item of sends) addLetter(item, error.code, error.message, error.reason)
          const level = error.code === 'DESTINATION_UNAVAILABLE' ? 'warn' : 'error'
          log[level](
            {
              code: error.code,
              reason: error.reason,
              error: error.message,
              attempts: result.attempts,
              events: sends.length,
              deadLetterTopic: topics.deadLetterTopic,
            },
            'batch not delivered; its events are in the dead-letter topic',
          )
        }
      } finally {
        clearInterval(heartbeat)
        state.delivering--
      }
    }

    if (letters.length > 0) {
      try {
        for (const chunk of chunksOfBytes(letters, deadLetterChunkBytes)) {
          await producer.send({ topic: topics.deadLetterTopic, acks: -1, messages: chunk })
        }
      } catch (error) {
        failed ??= error instanceof Error ? error : new Error(String(error))
        log.fatal(
          { err: error, deadLetterTopic: topics.deadLetterTopic },
          'dead letters could not be written; committing nothing more',
        )
        options.onFatal?.(error)
        throw error
      }
      for (const [errorClass, count] of lettersByClass)
        metrics.deadLettered.inc({ destination: name, error_class: errorClass }, count)
    }
    const lastItem = batch.items.at(-1)
    if (lastItem) payload.resolveOffset(lastItem.offset)
    try {
      await consumer.commitOffsets([{ topic, partition, offset: batch.commitOffset }])
    } catch (error) {
      // The partition moved mid-batch: its next owner sends the batch again (receivers dedupe by event_id).
      log.warn(
        { err: error, topic, partition, offset: batch.commitOffset },
        'commit refused (rebalance); the batch may be delivered again',
      )
    }
    if (outcome === 'delivered') metrics.delivered.inc({ destination: name }, sends.length)
    if (outcome !== 'none') metrics.batches.inc({ destination: name, outcome })
    const skipped = batch.items.filter((item) => item.kind === 'skip').length
    if (skipped > 0) metrics.skipped.inc({ destination: name }, skipped)
  }

  const eachBatch = async (payload: EachBatchPayload) => {
    if (failed !== undefined) throw failed
    const { batch } = payload
    const items: Item[] = []
    for (const message of batch.messages) items.push(await prepare(message))
    for (const next of cutBatches(items, destination.batch)) {
      if (state.closing || !payload.isRunning() || payload.isStale()) break
      try {
        await finish(payload, next)
      } catch (error) {
        // The shutdown deadline cut the batch short: it is not committed, and is sent again after the restart.
        if (stopping.signal.aborted && failed === undefined) return
        throw error
      }
    }
    const last = batch.messages.at(-1)?.offset
    if (last !== undefined) {
      metrics.lag.set(
        { destination: name, topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - Number(last) - 1),
      )
    }
  }

  return {
    name,
    async start() {
      await consumer.connect()
      await consumer.subscribe({ topics: [...topics.input, topics.retryTopic], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
        eachBatch,
      })
      log.info(
        {
          groupId: topics.groupId,
          input: topics.input,
          retryTopic: topics.retryTopic,
          deadLetterTopic: topics.deadLetterTopic,
        },
        'destination started',
      )
    },
    async stop(deadline) {
      if (state.closing) return
      state.closing = true
      const outcome = await Promise.race([
        consumer.stop().then(() => 'stopped' as const),
        deadline.then(() => 'deadline' as const),
      ])
      if (outcome === 'deadline') {
        log.error('the batch in flight did not finish in time; it is delivered again after the restart')
        stopping.abort()
        await consumer.stop()
      }
      stopping.abort()
      await consumer.disconnect()
      breaker.shutdown()
      await transport.close()
    },
    live: () =>
      failed !== undefined
        ? { ok: false, details: { deadLettersFailed: failed.message } }
        : state.crashed
          ? { ok: false, details: { crashed: state.crashed } }
          : { ok: true },
    ready: () => ({
      ok: state.joined && !state.closing,
      details: {
        consumerGroupJoined: state.joined,
        delivering: state.delivering > 0,
        breaker: breaker.state(),
      },
    }),
  }
}
