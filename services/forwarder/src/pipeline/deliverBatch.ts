import type { Message, Producer } from 'kafkajs'
import {
  recordDeadLetter,
  sendDeadLetters,
  type KafkaRecord,
  type RecordFailure,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Breaker } from '../delivery/circuitBreaker.js'
import { deliverWithRetries } from '../delivery/deliverWithRetries.js'
import type { Destination } from '../destinations/destination.js'
import { batchIdFor } from '../format/batchId.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Transport } from '../senders/transport.js'
import type { EventBatch } from './batchEvents.js'

/** A dead-lettered record, where it came from and why: what the batch's report says. */
export type DeadLettered = {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly failure: RecordFailure
}

/** What became of a batch once it was delivered or dead-lettered: what the commit step reports. */
export type FinishedBatch = {
  /** `none`: the batch had no event to send (all filtered out or dead-lettered before delivery). */
  readonly outcome: 'delivered' | 'dead_lettered' | 'none'
  /** Events the destination took. */
  readonly delivered: number
  readonly skipped: number
  /** Records written to the dead-letter topic: before delivery, and the batch's events if it was not delivered. */
  readonly deadLettered: readonly DeadLettered[]
}

export type DeliverBatchOptions = {
  destination: Pick<Destination, 'name' | 'format' | 'retry' | 'breaker'>
  transport: Pick<Transport, 'send'>
  breaker: Pick<Breaker, 'guard'>
  /** Connected by the caller, acks=all: writes the dead letters. */
  producer: Pick<Producer, 'send'>
  deadLetterTopic: string
  metrics: Pick<ForwarderMetrics, 'retries' | 'deliverySeconds' | 'deadLettered'>
  log: Logger
  /** The runtime's: aborted on stop's deadline or a restart, when the batch is read again. */
  signal: AbortSignal
  now: () => number
  /** Counts deliveries under way, for readiness details. */
  delivering?: { count: number }
}

/**
 * The task that finishes one batch: sends its events until the destination takes them or the
 * retries are spent (deliverWithRetries, through the destination's circuit breaker), then writes
 * the batch's dead letters (records that failed before delivery, and every event of a batch that
 * was not delivered) in chunks with acks=all, and only then resolves, so that the offsets are
 * committed after the dead letters are safe. A dead-letter write that fails throws: the runtime
 * restarts from the last commit and the batch is delivered again (receivers deduplicate by
 * event id). When the signal aborts, it throws without dead-lettering: nothing is committed.
 */
export function deliverBatch(options: DeliverBatchOptions): (batch: EventBatch) => Promise<FinishedBatch> {
  const { destination, metrics, log, signal } = options
  const name = destination.name
  const service = `forwarder:${name}`

  const deliver = async (batch: EventBatch) => {
    const eventIds = batch.sends.map((item) => item.eventId)
    const body = Buffer.from(destination.format.body(batch.sends.map((item) => item.entry)))
    const id = batchIdFor(eventIds)
    const started = performance.now()
    if (options.delivering) options.delivering.count++
    try {
      const result = await deliverWithRetries(() => options.transport.send({ id, body, eventIds }, signal), {
        policy: destination.retry,
        guard: (attempt) => options.breaker.guard(attempt),
        breakerWaitMs: Math.min(destination.breaker.resetTimeoutMs, destination.retry.maxDelayMs),
        signal,
        onRetry: (error, attempt, delayMs) => {
          metrics.retries.inc({ destination: name, reason: error.reason })
          log.warn(
            {
              code: error.code,
              reason: error.reason,
              error: error.message,
              attempt,
              delayMs,
              events: batch.sends.length,
            },
            'delivery failed; retrying',
          )
        },
      })
      metrics.deliverySeconds.observe({ destination: name }, (performance.now() - started) / 1000)
      return result
    } finally {
      if (options.delivering) options.delivering.count--
    }
  }

  return async (batch) => {
    const deadLettered: DeadLettered[] = []
    const letters: Message[] = []
    const at = new Date(options.now())
    const addLetter = (record: KafkaRecord, failure: RecordFailure) => {
      letters.push(recordDeadLetter(record, failure, service, at))
      deadLettered.push({ topic: record.topic, partition: record.partition, offset: record.offset, failure })
    }
    for (const { record, failure } of batch.deadLetters) addLetter(record, failure)

    let outcome: FinishedBatch['outcome'] = 'none'
    if (batch.sends.length > 0) {
      const result = await deliver(batch)
      if (result.delivered) {
        outcome = 'delivered'
      } else {
        outcome = 'dead_lettered'
        const { error } = result
        const failure = { errorClass: error.code, reason: error.reason, message: error.message }
        for (const item of batch.sends) addLetter(item.record, failure)
        log[error.code === 'DESTINATION_UNAVAILABLE' ? 'warn' : 'error'](
          {
            code: error.code,
            reason: error.reason,
            error: error.message,
            attempts: result.attempts,
            events: batch.sends.length,
            deadLetterTopic: options.deadLetterTopic,
          },
          'batch not delivered; its events are in the dead-letter topic',
        )
      }
    }

    if (letters.length > 0) {
      try {
        await sendDeadLetters(options.producer, options.deadLetterTopic, letters)
      } catch (error) {
        log.error(
          { err: error, deadLetterTopic: options.deadLetterTopic, letters: letters.length },
          'dead letters could not be written; nothing after them is committed, the batch is read again',
        )
        throw error
      }
      const byClass = new Map<string, number>()
      for (const { failure } of deadLettered)
        byClass.set(failure.errorClass, (byClass.get(failure.errorClass) ?? 0) + 1)
      for (const [errorClass, count] of byClass)
        metrics.deadLettered.inc({ destination: name, error_class: errorClass }, count)
    }

    return {
      outcome,
      delivered: outcome === 'delivered' ? batch.sends.length : 0,
      skipped: batch.skipped,
      deadLettered,
    }
  }
}
