import type { Message } from 'kafkajs'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  reduce,
  runInFlight,
  runTask,
  type KafkaRecord,
  type ProcessingStep,
  type RecordFailure,
  type RuntimeContext,
  registryOutage,
} from '@audit-pipeline/kafka'
import { retryWithBackoff, type BackoffPolicy, type Failpoints } from '@audit-pipeline/service-runtime'
import { closeReason, type BatchPolicy } from '../batching/batchPolicy.js'
import { addToBatch, emptyBatch, itemBytes, type SinkBatch, type SinkItem } from '../batching/sinkBatch.js'
import { decodeRow } from './decodeRow.js'
import { skipStored } from './skipStored.js'
import { createStoredRowLedger } from './storedRowLedger.js'
import { storedRowsLimit, type StoredRow, type StoredRowsQuery } from './storedRows.js'
import { writeBatch, type ClosedBatch, type WrittenBatch } from './writeBatch.js'
import type { RowInserter } from './writeRows.js'

/** What the sink reports as its steps go; one call per batch written (sinkTelemetry.ts). */
export type SinkTelemetry = {
  /** A ClickHouse call failed and is retried after `delayMs`: ClickHouse counts as unavailable. */
  clickhouseRetry(operation: 'insert' | 'lookup', error: unknown, attempt: number, delayMs: number): void
  /** A ClickHouse call went through: ClickHouse is available again. */
  clickhouseAnswered(): void
  /** An insert started or ended. */
  writing(active: boolean): void
  /** Reading waited this long for the batch before to be written. */
  waited(seconds: number): void
  /** A record's processing threw (a bug or an input no check foresaw): it is dead-lettered. */
  recordFailed(record: KafkaRecord, failure: RecordFailure): void
  /** A batch was written, its dead letters sent and its offsets committed. */
  batchWritten(written: WrittenBatch): void
}

export type SinkStepsOptions = {
  /** Avro in the Confluent wire format; throws a retriable CodecError while the registry is down. */
  decode(value: Buffer): Promise<AuditEvent>
  /** One look-up of stored rows (readStoredRows); the steps retry it while ClickHouse is unavailable. */
  storedRows(query: StoredRowsQuery): Promise<StoredRow[]>
  insert: RowInserter
  /** Sends dead letters with acks=all (sendDeadLetters of the runtime, to SINK_DEAD_LETTER_TOPIC). */
  sendDeadLetters: (letters: readonly Message[]) => Promise<void>
  deadLetterOf: (record: KafkaRecord, failure: RecordFailure) => Message
  batch: BatchPolicy
  /** Between ClickHouse retries. */
  backoff: BackoffPolicy
  telemetry: SinkTelemetry
  /** ms; batch age. */
  now: () => number
  /** Crash points for the fault drills. */
  failpoints?: Pick<Failpoints, 'reach'>
}

/**
 * The sink's steps on the consumer runtime: decode each record into its row (isolated: whatever
 * one record does becomes its dead letter) → skip records whose row is stored (skipStored.ts) →
 * batch by records, bytes and age → write the batch, one at a time while the next one fills
 * (the insert, then its dead letters) → commit its offsets. A failure to write (not a refused
 * row: ClickHouse unavailable past stop's deadline, dead letters Kafka did not take) fails the
 * step, and the runtime reads again from the last commit with new steps.
 */
export function sinkSteps(options: SinkStepsOptions, context: RuntimeContext): ProcessingStep<KafkaRecord> {
  const { telemetry, now } = options
  const ledger = createStoredRowLedger()
  const limit = storedRowsLimit(options.batch)
  let stopping = false

  const decode = (record: KafkaRecord) =>
    decodeRow(record, (value) => context.whileUnavailable(registryOutage, () => options.decode(value)))

  // A look-up cannot be refused for its data: every failure is ClickHouse unavailable, overloaded,
  // or something an operator fixes (a table detached, a grant), so it is waited out; failing the
  // step instead would only restart the consumer into the same look-up.
  const storedRows = async (topic: string, partition: number, fromOffset: bigint) => {
    const rows = await retryWithBackoff(() => options.storedRows({ topic, partition, fromOffset, limit }), {
      isRetriable: () => true,
      policy: options.backoff,
      signal: context.signal,
      onRetry: (error, attempt, delayMs) => telemetry.clickhouseRetry('lookup', error, attempt, delayMs),
    })
    telemetry.clickhouseAnswered()
    return rows
  }

  const write = async (closed: ClosedBatch): Promise<WrittenBatch> => {
    telemetry.writing(true)
    try {
      return await writeBatch(closed, {
        insert: async (rows, token) => {
          await options.insert(rows, token)
          telemetry.clickhouseAnswered()
        },
        sendDeadLetters: options.sendDeadLetters,
        deadLetterOf: options.deadLetterOf,
        ...(options.failpoints && { failpoints: options.failpoints }),
        write: {
          backoff: options.backoff,
          signal: context.signal,
          onRetry: (error, attempt, delayMs) => telemetry.clickhouseRetry('insert', error, attempt, delayMs),
        },
      })
    } finally {
      telemetry.writing(false)
    }
  }

  const commit: ProcessingStep<WrittenBatch> = {
    async submit({ payload: written, committable }) {
      const offsets = [...committable.values()]
      await context.commit(offsets)
      for (const { topic, partition, offset } of offsets) ledger.committed(topic, partition, BigInt(offset))
      context.countDeadLetters(written.deadLetterClasses)
      telemetry.batchWritten(written)
    },
    poll: () => Promise.resolve(),
    join: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }

  // One batch written while the next fills; when that one is full too, submitting waits, and so
  // does reading (heartbeats go on): memory holds at most two batches.
  const inFlight = runInFlight(write, { maxInFlight: 1 }, commit)
  const closing: ProcessingStep<SinkBatch> = {
    async submit({ payload: batch, committable }) {
      const reason = closeReason(
        { records: batch.records, ageMs: now() - batch.startedAtMs, stopping },
        options.batch,
      )
      const started = performance.now()
      await inFlight.submit({ payload: { batch, reason }, committable })
      telemetry.waited((performance.now() - started) / 1000)
    },
    poll: () => inFlight.poll(),
    join: () => inFlight.join(),
    close: () => inFlight.close(),
  }

  const steps = runTask(
    decode,
    skipStored(
      { ledger, storedRows },
      reduce<SinkItem, SinkBatch>(
        {
          initial: emptyBatch,
          accumulate: (batch, item) => {
            if (item.kind === 'failed' && item.failed.failure.errorClass === 'RECORD_FAILED') {
              telemetry.recordFailed(item.failed.record, item.failed.failure)
            }
            return addToBatch(batch, item, now())
          },
          maxMessages: options.batch.maxRows,
          maxBytes: options.batch.maxBytes,
          sizeOf: itemBytes,
          maxAgeMs: options.batch.maxAgeMs,
          now,
        },
        closing,
      ),
    ),
  )
  return {
    submit: (message) => steps.submit(message),
    poll: () => steps.poll(),
    // The runtime joins only on stop: the batch it closes is the shutdown batch.
    join: () => ((stopping = true), steps.join()),
    close: () => steps.close(),
  }
}
