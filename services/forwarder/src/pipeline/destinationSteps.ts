import type { Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  runInFlight,
  runTask,
  type KafkaRecord,
  type ProcessingStep,
  type RuntimeContext,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Breaker } from '../delivery/circuitBreaker.js'
import type { Destination } from '../destinations/destination.js'
import type { ForwarderMetrics } from '../metrics.js'
import type { Transport } from '../senders/transport.js'
import { batchEvents } from './batchEvents.js'
import { commitBatch } from './commitBatch.js'
import { decodeRecord } from './decodeRecord.js'
import { deliverBatch, type FinishedBatch } from './deliverBatch.js'
import { inPartitionOrder } from './inPartitionOrder.js'
import { prepareCheckpoints } from './prepareCheckpoints.js'
import { prepareRecords } from './prepareRecords.js'

export type DestinationStepsOptions = {
  destination: Pick<
    Destination,
    'name' | 'filter' | 'projection' | 'format' | 'batch' | 'retry' | 'breaker'
  > &
    Partial<Pick<Destination, 'input'>>
  codec: Pick<AuditEventCodec, 'decode'>
  /** Outlive the steps (a restart builds new steps, the breaker keeps what it learnt). */
  transport: Pick<Transport, 'send'>
  breaker: Pick<Breaker, 'guard'>
  producer: Pick<Producer, 'send'>
  deadLetterTopic: string
  /** Batches delivered at once, from different partitions; each partition's one after another. */
  maxBatchesInFlight: number
  metrics: Pick<
    ForwarderMetrics,
    'retries' | 'deliverySeconds' | 'deadLettered' | 'delivered' | 'batches' | 'skipped'
  >
  log: Logger
  now: () => number
  delivering?: { count: number }
}

/** Records dead-lettered before delivery named in one batch's log line, at most. */
const loggedRecordsPerBatch = 20

/**
 * One destination's steps on the consumer runtime: decode each record (isolated; registry
 * outages held and retried by the runtime) → filter, project and format it (isolated) → batch
 * per partition by count, bytes and age → deliver with retries and the circuit breaker, up to
 * `maxBatchesInFlight` at once and each partition's in order, then write the batch's dead letters
 * → commit the offset after the batch. A crash or a failed step loses nothing: what was not
 * committed is read and delivered again. A checkpoints destination (`input: checkpoints`) has
 * prepareCheckpoints in place of the first two steps; from batching on, its steps are these.
 */
export function destinationSteps(
  options: DestinationStepsOptions,
  context: RuntimeContext,
): ProcessingStep<KafkaRecord> {
  const { destination } = options
  const deliver = deliverBatch({
    destination,
    transport: options.transport,
    breaker: options.breaker,
    producer: options.producer,
    deadLetterTopic: options.deadLetterTopic,
    metrics: options.metrics,
    log: options.log,
    signal: context.signal,
    now: options.now,
    ...(options.delivering && { delivering: options.delivering }),
  })
  const batched = batchEvents(
    destination.batch,
    runInFlight(
      inPartitionOrder(deliver),
      { maxInFlight: options.maxBatchesInFlight },
      commitBatch(context, reportBatch(options)),
    ),
  )
  if (destination.input === 'checkpoints') return prepareCheckpoints(batched)
  return runTask(decodeRecord(options.codec, context), prepareRecords(destination, batched))
}

/** One telemetry call per committed batch: its counters, and a log line for what it dead-lettered before delivery. */
function reportBatch({ destination, metrics, log }: DestinationStepsOptions) {
  const labels = { destination: destination.name }
  return (batch: FinishedBatch) => {
    if (batch.delivered > 0) metrics.delivered.inc(labels, batch.delivered)
    if (batch.outcome !== 'none') metrics.batches.inc({ ...labels, outcome: batch.outcome })
    if (batch.skipped > 0) metrics.skipped.inc(labels, batch.skipped)
    const early = batch.deadLettered.filter((letter) => !letter.failure.errorClass.startsWith('DESTINATION_'))
    if (early.length === 0) return
    // RECORD_FAILED is input nothing foresaw (or a bug): an operator should look.
    const failed = early.some((letter) => letter.failure.errorClass === 'RECORD_FAILED')
    log[failed ? 'error' : 'warn'](
      {
        count: early.length,
        records: early.slice(0, loggedRecordsPerBatch).map(({ topic, partition, offset, failure }) => ({
          topic,
          partition,
          offset,
          errorClass: failure.errorClass,
          ...(failure.reason !== undefined && { reason: failure.reason }),
          error: failure.message,
        })),
      },
      'records dead-lettered before delivery (audit-pipeline dlq list shows why)',
    )
  }
}
