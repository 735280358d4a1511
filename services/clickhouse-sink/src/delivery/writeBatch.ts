import type { Message } from 'kafkajs'
import type { KafkaRecord, RecordFailure } from '@audit-pipeline/kafka'
import type { Failpoints } from '@audit-pipeline/service-runtime'
import type { CloseReason } from '../batching/batchPolicy.js'
import type { BatchRow, FailedRecord, SinkBatch } from '../batching/sinkBatch.js'
import { admitRows } from '../integrity/admitRows.js'
import { chainNameOf } from '../integrity/chainState.js'
import type { ChainWriter } from '../integrity/chainWriter.js'
import type { EventIdentity, EventKey } from '../integrity/eventIdentity.js'
import { splitByTarget } from './rowTarget.js'
import { writeRows, type RejectedRow, type RowInserter, type WriteOptions } from './writeRows.js'

/** A batch as the batching step closed it, with what closed it. */
export type ClosedBatch = { readonly batch: SinkBatch; readonly reason: CloseReason }

/** A batch whose rows ClickHouse confirmed and whose dead letters Kafka acknowledged: its offsets may be committed. */
export type WrittenBatch = ClosedBatch & {
  /** Rows ClickHouse refused, dead-lettered. */
  readonly rejected: readonly RejectedRow[]
  /** The error class of each dead letter sent. */
  readonly deadLetterClasses: readonly string[]
  /** Rows of `audit_events` ClickHouse confirmed. */
  readonly inserted: number
  /** Rows of `audit_record_latest` ClickHouse confirmed (events marked temporal level 1). */
  readonly insertedLatest: number
  /** Rows found stored by their offset (written before a crash or a rebalance): not inserted again. */
  readonly alreadyStored: number
  /** Events the trail held already with the same content (exact replays): committed, not stored again. */
  readonly replays: number
  /** Events whose (tenant, event_id) the trail held with other content: dead-lettered as EVENT_ID_CONFLICT. */
  readonly conflicts: number
  /** Chain entries written, and signed checkpoints made after them. */
  readonly chained: { entries: number; checkpoints: number }
  /** Inserting and dead-lettering, retries included. */
  readonly seconds: number
}

export type BatchWriter = {
  /** The digests the trail holds for these events, at any age (retried while ClickHouse is unavailable). */
  storedDigests(identities: readonly EventIdentity[]): Promise<ReadonlyMap<EventKey, string>>
  /** This generation's chain writer: entries after the rows, then checkpoints. */
  chain: Pick<ChainWriter, 'record'>
  /** Into `audit_events`. */
  insert: RowInserter
  /** Into `audit_record_latest`. */
  insertLatest: RowInserter
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
  /** Every row inserted, their chain entries not yet written. */
  beforeChain: 'sink.before-chain',
  /** Every row inserted, the batch's dead letters not yet sent. */
  beforeDeadLetters: 'sink.before-dead-letters',
} as const

/** The class of the dead letter of a row ClickHouse refused. */
export const rowRejected = 'ROW_REJECTED'

/** The class of the dead letter of an event whose (tenant, event_id) the trail holds with other content. */
export const eventIdConflict = 'EVENT_ID_CONFLICT'

/**
 * Writes one batch. Its rows are split by target first (rowTarget.ts): events marked temporal
 * level 1 go to `audit_record_latest` alone, every other one to the trail. Each trail row is
 * checked against the trail (admitRows.ts): an exact replay of a stored event is only committed,
 * a conflicting copy is dead-lettered, never stored over the original. Then one insert per table
 * partition (month), so that each insert is one part, written all or nothing (halved around rows
 * ClickHouse refuses); then one insert of the `latest` rows (that table has no partitions: one
 * part), refused rows dead-lettered alike; then the stored trail events' chain entries (and any
 * checkpoint due); then every dead letter of the batch (records that gave no row, refused rows,
 * conflicts) with acks=all. Only then is the batch done, so its offsets are committed after all
 * of it: a crash anywhere before leaves them uncommitted, and the records are read again, their
 * stored rows found and chained if their entries are missing, the `latest` rows written again
 * (the newest change wins whatever the order), the refused ones refused and dead-lettered again.
 *
 * `latest` rows get no chain entry and no check against the trail: the tenant chose to keep no
 * history of those records, so there is nothing for the chain to cover, and a row there replaces
 * only an older change of its own record, never a stored event.
 */
export async function writeBatch(closed: ClosedBatch, writer: BatchWriter): Promise<WrittenBatch> {
  const started = performance.now()
  const { rows } = closed.batch
  const { trail, latest } = splitByTarget(rows)
  const storedDigests =
    trail.length === 0
      ? new Map<EventKey, string>()
      : await writer.storedDigests(trail.map((row) => row.identity))
  const admission = admitRows(trail, storedDigests)
  const rejectedTrail: RejectedRow[] = []
  const toInsert = admission.admitted.filter((row) => !row.eventStored)
  for (const [index, part] of byPartition(toInsert).entries()) {
    if (index > 0) writer.failpoints?.reach(sinkFailpoints.betweenParts)
    rejectedTrail.push(...(await writeRows(part, writer.insert, writer.write)))
  }
  const rejectedLatest = await writeRows(latest, writer.insertLatest, writer.write)
  const rejected = [...rejectedTrail, ...rejectedLatest]
  const refused = new Set(rejectedTrail.map(({ row }) => row))
  if (admission.admitted.length > 0) writer.failpoints?.reach(sinkFailpoints.beforeChain)
  const chained = await writer.chain.record(
    admission.admitted
      .filter((row) => !refused.has(row))
      .map((row) => ({ identity: row.identity, chain: chainNameOf(row.record.topic, row.record.partition) })),
  )
  const failed: FailedRecord[] = [
    ...closed.batch.failed,
    ...rejected.map(({ row, reason }) => ({
      record: row.record,
      failure: { errorClass: rowRejected, message: reason.slice(0, 1_000) },
    })),
    ...admission.conflicts.map(({ row, conflict }) => ({
      record: row.record,
      failure: {
        errorClass: eventIdConflict,
        message: `event ${conflict.eventId} of tenant '${conflict.tenant}' is in the trail with content digest ${conflict.storedDigest}; this copy has ${conflict.refusedDigest}. The first copy is kept; an event id names one event, and a change to it is a new event with a new id`,
        conflict,
      },
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
    inserted: toInsert.length - rejectedTrail.length,
    insertedLatest: latest.length - rejectedLatest.length,
    alreadyStored: rows.filter((row) => row.eventStored).length,
    replays: admission.replays.filter((row) => !row.eventStored).length,
    conflicts: admission.conflicts.length,
    chained,
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
