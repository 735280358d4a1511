import type { Message } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  reduce,
  runTask,
  type KafkaRecord,
  type Processed,
  type ProcessingStep,
  type RuntimeContext,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { AlertNotice } from '../alerts/alertNotice.js'
import { readConflictAlert, type ConflictReading, type UnreadableReason } from '../alerts/conflictAlert.js'
import type { AlertingMetrics } from '../metrics.js'
import { alertMessage } from './alertMessages.js'

export type ConflictStepsOptions = {
  codec: Pick<AuditEventCodec, 'encode'>
  /** Writes alerts to the alerts topic with acks=all; resolves once Kafka acknowledged every one. */
  send: (messages: Message[]) => Promise<void>
  metrics: Pick<AlertingMetrics, 'conflictAlerts' | 'deadLettersUnreadable'>
  log: Logger
  /** A batch is written once it holds this many dead letters, and after each fetch. Default 500. */
  maxBatchMessages?: number
}

/** One message read: its conflict alert encoded, or nothing to write. */
type Read =
  | { kind: 'alert'; notice: AlertNotice; message: Message }
  | { kind: 'other' }
  | { kind: 'unreadable'; reason: UnreadableReason; problem: string }

type Unreadable = {
  topic: string
  partition: number
  offset: string
  reason: UnreadableReason
  problem: string
}

/** What one batch of dead letters holds: the alerts to write, and the messages skipped as unreadable. */
type Batch = { alerts: { notice: AlertNotice; message: Message }[]; unreadable: Unreadable[] }

/** Unreadable messages named in a batch's log line; the rest are counted. */
const unreadableLogged = 5

/**
 * The conflict alerts' steps on the consumer runtime: read each message of the dead-letter
 * topics (isolated by runTask: whatever one does is that one's failure, counted and skipped) →
 * gather them into a batch, closed after each fetch → write the batch's alerts with acks=all,
 * count and log them, then commit the batch's offsets. At least once: an alert is committed only
 * once Kafka acknowledged it; read again after a crash, a dead letter gives a byte-identical alert
 * (alerts/conflictAlert.ts), which downstream deduplicates. A failed write fails the steps: the
 * runtime restarts from the last commit.
 */
export function conflictSteps(
  options: ConflictStepsOptions,
  context: Pick<RuntimeContext, 'commit'>,
): ProcessingStep<KafkaRecord> {
  const { codec, metrics, log } = options

  const read = (record: KafkaRecord): Read => {
    const reading: ConflictReading = readConflictAlert(record, {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
    })
    if (reading.kind !== 'alert') return reading.kind === 'other' ? { kind: 'other' } : reading
    // An event that cannot be encoded throws: runTask makes it this record's failure.
    return {
      kind: 'alert',
      notice: reading.notice,
      message: alertMessage(reading.notice, codec.encode(reading.event)),
    }
  }

  const accumulate = (batch: Batch, { input, outcome }: Processed<KafkaRecord, Read>): Batch => {
    const where = { topic: input.topic, partition: input.partition, offset: input.offset }
    if (!outcome.ok) {
      batch.unreadable.push({
        ...where,
        reason: 'RECORD_FAILED',
        problem: `${outcome.failure.errorClass}: ${outcome.failure.message}`,
      })
    } else if (outcome.value.kind === 'alert') {
      batch.alerts.push({ notice: outcome.value.notice, message: outcome.value.message })
    } else if (outcome.value.kind === 'unreadable') {
      batch.unreadable.push({ ...where, reason: outcome.value.reason, problem: outcome.value.problem })
    }
    return batch
  }

  /** One telemetry call per batch, once its alerts are acknowledged: counts and logs agree. */
  const report = (batch: Batch) => {
    if (batch.alerts.length > 0) {
      metrics.conflictAlerts.inc(batch.alerts.length)
      log.warn(
        {
          alerts: batch.alerts.map(({ notice }) => ({
            alertId: notice.alertId,
            tenant: notice.tenant,
            eventId: notice.groupKey,
            refusedBy: notice.figures['refused_by'],
          })),
        },
        'event ids sent again with other content: security alerts written',
      )
    }
    if (batch.unreadable.length > 0) {
      for (const { reason } of batch.unreadable) metrics.deadLettersUnreadable.inc({ reason })
      log.warn(
        { unreadable: batch.unreadable.length, first: batch.unreadable.slice(0, unreadableLogged) },
        'unreadable messages on the conflict input topics skipped (audit-pipeline dlq list shows them)',
      )
    }
  }

  const writeAndCommit: ProcessingStep<Batch> = {
    async submit({ payload: batch, committable }) {
      if (batch.alerts.length > 0) await options.send(batch.alerts.map(({ message }) => message))
      report(batch)
      await context.commit([...committable.values()])
    },
    poll: () => Promise.resolve(),
    join: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }

  return runTask(
    read,
    reduce<Processed<KafkaRecord, Read>, Batch>(
      {
        initial: () => ({ alerts: [], unreadable: [] }),
        accumulate,
        maxMessages: options.maxBatchMessages ?? 500,
        maxAgeMs: 100,
        closeOnPoll: true,
      },
      writeAndCommit,
    ),
  )
}
