import type { Message } from 'kafkajs'
import type { AuditEvent, ReservedNamespace } from '@audit-pipeline/event-model'
import type { SignedCheckpoint, SigningKey } from '@audit-pipeline/integrity'
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
import type { ChainStore } from '../integrity/chainStore.js'
import { createChainWriter, type CheckpointPolicy } from '../integrity/chainWriter.js'
import type { EventIdentity, EventKey } from '../integrity/eventIdentity.js'
import { decodeRow } from './decodeRow.js'
import { insertFailure } from './insertFailure.js'
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
  /** Checkpoints were written for chains no event came to lately. */
  checkpointed(count: number): void
  /** Writing those failed (not a batch: nothing is read again); the next try is at the next poll or batch. */
  checkpointFailed(error: unknown): void
}

export type SinkStepsOptions = {
  /** Avro in the Confluent wire format; throws a retriable CodecError while the registry is down. */
  decode(value: Buffer): Promise<AuditEvent>
  /** The reserved namespace each topic holds (SinkConfig.namespaceByTopic); other topics hold none. */
  namespaceByTopic: ReadonlyMap<string, ReservedNamespace>
  /** One look-up of stored rows (readStoredRows); the steps retry it while ClickHouse is unavailable. */
  storedRows(query: StoredRowsQuery): Promise<StoredRow[]>
  /** Into `audit_events`. */
  insert: RowInserter
  /** Into `audit_record_latest`: events marked temporal level 1 (delivery/rowTarget.ts). */
  insertLatest: RowInserter
  /** One look-up of the digests the trail holds (readStoredDigests); the steps retry it while ClickHouse is unavailable. */
  storedDigests(identities: readonly EventIdentity[]): Promise<ReadonlyMap<EventKey, string>>
  /** The chain table and checkpoints in ClickHouse; the steps retry each call while ClickHouse is unavailable. */
  chainStore: ChainStore
  /** Signs checkpoints; undefined: no checkpoints (SINK_CHECKPOINTS=off). */
  signingKey: SigningKey | undefined
  checkpoints: CheckpointPolicy
  /** Copies checkpoints to the checkpoints topic with acks=all (after ClickHouse has them). */
  publishCheckpoints(checkpoints: readonly SignedCheckpoint[]): Promise<void>
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
 * The sink's steps on the consumer runtime: decode each record into its row and its target table
 * (isolated: whatever one record does becomes its dead letter) → skip records whose row is stored
 * (skipStored.ts) → batch by records, bytes and age → write the batch, one at a time while the
 * next one fills (the inserts into `audit_events` and `audit_record_latest`, the chain entries,
 * then its dead letters: writeBatch.ts) → commit its offsets. A failure to write (not a refused
 * row: ClickHouse unavailable past stop's deadline, dead letters Kafka did not take) fails the
 * step, and the runtime reads again from the last commit with new steps.
 */
export function sinkSteps(options: SinkStepsOptions, context: RuntimeContext): ProcessingStep<KafkaRecord> {
  const { telemetry, now } = options
  const ledger = createStoredRowLedger()
  const limit = storedRowsLimit(options.batch)
  let stopping = false

  const decodeValue = (value: Buffer): Promise<AuditEvent> =>
    context.whileUnavailable(registryOutage, () => options.decode(value))
  const decode = (record: KafkaRecord) =>
    decodeRow(record, decodeValue, options.namespaceByTopic.get(record.topic))

  // A look-up cannot be refused for its data: every failure is ClickHouse unavailable, overloaded,
  // or something an operator fixes (a table detached, a grant), so it is waited out; failing the
  // step instead would only restart the consumer into the same look-up.
  const lookUp = async <T>(work: () => Promise<T>): Promise<T> => {
    const result = await retryWithBackoff(work, {
      isRetriable: () => true,
      policy: options.backoff,
      signal: context.signal,
      onRetry: (error, attempt, delayMs) => telemetry.clickhouseRetry('lookup', error, attempt, delayMs),
    })
    telemetry.clickhouseAnswered()
    return result
  }
  const storedRows = (topic: string, partition: number, fromOffset: bigint) =>
    lookUp(() => options.storedRows({ topic, partition, fromOffset, limit }))
  // Integrity records are written like rows: retried while ClickHouse is unavailable, the same
  // token each time; one it refuses is a bug, and fails the steps.
  const insertRetried = async (work: () => Promise<void>) => {
    await retryWithBackoff(work, {
      isRetriable: (error) => insertFailure(error) === 'retry',
      policy: options.backoff,
      signal: context.signal,
      onRetry: (error, attempt, delayMs) => telemetry.clickhouseRetry('insert', error, attempt, delayMs),
    })
    telemetry.clickhouseAnswered()
  }
  const chain = createChainWriter({
    store: {
      load: (chains) => lookUp(() => options.chainStore.load(chains)),
      insertEntries: (lines, token) => insertRetried(() => options.chainStore.insertEntries(lines, token)),
      insertCheckpoints: (lines, token) =>
        insertRetried(() => options.chainStore.insertCheckpoints(lines, token)),
    },
    signingKey: options.signingKey,
    policy: options.checkpoints,
    publish: (checkpoints) => options.publishCheckpoints(checkpoints),
    now,
  })
  /** Checkpoints of idle chains, from poll: one try at a time, at most once a second, never awaited by reading. */
  let checkpointing: Promise<void> | undefined
  let lastCheckpointTryMs = 0
  const checkpointIdleChains = () => {
    if (checkpointing || now() - lastCheckpointTryMs < 1_000 || context.signal.aborted) return
    lastCheckpointTryMs = now()
    checkpointing = chain
      .checkpoint()
      .then(
        (count) => void (count > 0 && telemetry.checkpointed(count)),
        (error: unknown) => telemetry.checkpointFailed(error),
      )
      .finally(() => (checkpointing = undefined))
  }

  const write = async (closed: ClosedBatch): Promise<WrittenBatch> => {
    telemetry.writing(true)
    try {
      return await writeBatch(closed, {
        storedDigests: (identities) => lookUp(() => options.storedDigests(identities)),
        chain,
        insert: async (rows, token) => {
          await options.insert(rows, token)
          telemetry.clickhouseAnswered()
        },
        insertLatest: async (rows, token) => {
          await options.insertLatest(rows, token)
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
    async poll() {
      await steps.poll()
      checkpointIdleChains()
    },
    // The runtime joins only on stop: the batch it closes is the shutdown batch, and every entry
    // written gets its checkpoint before the offsets are handed over.
    async join() {
      stopping = true
      await steps.join()
      await checkpointing
      const count = await chain.checkpoint({ all: true })
      if (count > 0) telemetry.checkpointed(count)
    },
    // On a rebalance or a restart too: the chains this generation wrote are handed over covered,
    // as far as ClickHouse lets (a failure is reported; the next owner checkpoints them by time).
    async close() {
      await steps.close()
      await checkpointing
      if (context.signal.aborted) return
      try {
        const count = await chain.checkpoint({ all: true })
        if (count > 0) telemetry.checkpointed(count)
      } catch (error) {
        telemetry.checkpointFailed(error)
      }
    },
  }
}
