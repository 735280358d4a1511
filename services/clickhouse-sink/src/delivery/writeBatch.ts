import type { Message } from 'kafkajs'
import type { KafkaRecord, RecordFailure } from '@audit-pipeline/kafka'
import type { Failpoints } from '@audit-pipeline/service-runtime'
import type { CloseReason } from '../batching/batchPolicy.js'
import type { BatchRow, FailedRecord, SinkBatch } from '../batching/sinkBatch.js'
import { writeRows, type RejectedRow, type RowInserter, type WriteOptions } from './writeRows.js'

/** A batch as the batching step closed it, with what closed it. */
export type ClosedBatch = { readonly batch: SinkBatch; readonly reason: CloseReason }

/** A batch whose rows ClickHouse confirmed and whose dead letters Kafka acknowledged: its offsets may be committed. */
export type WrittenBatch = ClosedBatch & {
  /** Rows ClickHouse refused, dead-lettered. */
  readonly rejected: readonly RejectedRow[]
  /** The error class of each dead letter sent. */
  readonly deadLetterClasses: readonly string[]
  /** Inserting and dead-lettering, retries included. */
  readonly seconds: number
}

export type BatchWriter = {
  insert: RowInserter
  /** Sends with acks=all; resolves once every letter is acknowledged. */
  sendDeadLetters: (letters: readonly Message[]) => Promise<void>
  deadLetterOf: (record: KafkaRecord, failure: RecordFailure) => Message
  write: WriteOptions
  /** Crash points for the fault drills (failpointsFrom of service-runtime). */
  failpoints?: Pick<Failpoints, 'reach'>
}

/** Where a fault drill may crash the sink (AUDIT_FAILPOINTS): the windows in which rows were once lost. */
export const sinkFailpoints = {
  /** One partition's rows inserted, the next partition's not yet. */
  betweenParts: 'sink.between-parts',
  /** Every row inserted, the batch's dead letters not yet sent. */
  beforeDeadLetters: 'sink.before-dead-letters',
} as const

/** The class of the dead letter of a row ClickHouse refused. */
export const rowRejected = 'ROW_REJECTED'

/**
 * Writes one batch: one insert per table partition (month), so that each insert is one part,
 * written all or nothing (halved around rows ClickHouse refuses), then every dead letter of the
 * batch (records that gave no row, and refused rows) with acks=all. Only then is the batch done,
 * so its offsets are committed after both: a crash anywhere before leaves them uncommitted, and
 * the records are read again, their stored rows skipped, the refused ones refused and
 * dead-lettered again.
 */
export async function writeBatch(closed: ClosedBatch, writer: BatchWriter): Promise<WrittenBatch> {
  const started = performance.now()
  const rejected: RejectedRow[] = []
  for (const [index, rows] of byPartition(closed.batch.rows).entries()) {
    if (index > 0) writer.failpoints?.reach(sinkFailpoints.betweenParts)
    rejected.push(...(await writeRows(rows, writer.insert, writer.write)))
  }
  const failed: FailedRecord[] = [
    ...closed.batch.failed,
    ...rejected.map(({ row, reason }) => ({
      record: row.record,
      failure: { errorClass: rowRejected, message: reason.slice(0, 1_000) },
    })),
  ].sort(bySource)
  if (failed.length > 0) {
    writer.failpoints?.reach(sinkFailpoints.beforeDeadLetters)
    await writer.sendDeadLetters(failed.map(({ record, failure }) => writer.deadLetterOf(record, failure)))
  }
  return {
    ...closed,
    rejected,
    deadLetterClasses: failed.map(({ failure }) => failure.errorClass),
    seconds: (performance.now() - started) / 1000,
  }
}

/** Dead letters in the order their records were read, per partition. */
function bySource(a: FailedRecord, b: FailedRecord): number {
  if (a.record.topic !== b.record.topic) return a.record.topic < b.record.topic ? -1 : 1
  if (a.record.partition !== b.record.partition) return a.record.partition - b.record.partition
  const [x, y] = [BigInt(a.record.offset), BigInt(b.record.offset)]
  return x < y ? -1 : x > y ? 1 : 0
}

/** The batch's rows by table partition, in the order each partition first appears. */
function byPartition(rows: readonly BatchRow[]): BatchRow[][] {
  const groups = new Map<number, BatchRow[]>()
  for (const row of rows) {
    const group = groups.get(row.partition)
    if (group) group.push(row)
    else groups.set(row.partition, [row])
  }
  return [...groups.values()]
}
