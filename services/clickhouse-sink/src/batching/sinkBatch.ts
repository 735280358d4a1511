import type { KafkaRecord, RecordFailure } from '@audit-pipeline/kafka'
import type { RowTarget } from '../delivery/rowTarget.js'
import type { EventIdentity } from '../integrity/eventIdentity.js'

/** A row to insert, with the record it was read from: a row ClickHouse refuses is dead-lettered as it arrived. */
export type BatchRow = {
  /** The row as its JSONCompactEachRow line, UTF-8, newline included (delivery/eventRowLine.ts): the insert only concatenates the lines. */
  readonly line: Buffer
  readonly eventId: string
  /** The table partition (month) it lands in: a batch is written one partition per insert. */
  readonly partition: number
  readonly record: KafkaRecord
  /** The event's place in the trail: checked against what is stored, then chained (`trail` rows only). */
  readonly identity: EventIdentity
  /** `audit_events` and the chain, or `audit_record_latest` alone (temporal level 1: rowTarget.ts). */
  readonly target: RowTarget
  /**
   * Its row is in `audit_events` already (written before a crash or a rebalance, found by offset):
   * not inserted again, but still checked and chained, since its entry may not have been written.
   * Never so for a `latest` row: only `audit_events` is looked up, and a `latest` row read again
   * is written again, which changes nothing (the newest change wins, whatever the order).
   */
  readonly eventStored: boolean
}

/** A record that gave no row: it is dead-lettered with the batch. */
export type FailedRecord = { readonly record: KafkaRecord; readonly failure: RecordFailure }

/** What one record became once decoded and checked against what ClickHouse holds. */
export type SinkItem =
  | { readonly kind: 'row'; readonly row: BatchRow }
  /** Its row is in a batch of this generation already (a re-read before the commit): only its offset is committed. */
  | { readonly kind: 'stored' }
  | { readonly kind: 'failed'; readonly failed: FailedRecord }

/**
 * Records from any partitions, written by one insert. The offsets it covers travel beside it (the
 * runtime's committable), so whatever writes it commits exactly what it wrote.
 */
export type SinkBatch = {
  readonly rows: BatchRow[]
  readonly failed: FailedRecord[]
  /** Records skipped because their row is stored. */
  alreadyStored: number
  records: number
  /** When the first record was added (ms, the sink's clock). */
  startedAtMs: number
}

export const emptyBatch = (): SinkBatch => ({
  rows: [],
  failed: [],
  alreadyStored: 0,
  records: 0,
  startedAtMs: 0,
})

/** Adds one record's item to the batch (mutating it) and returns it, as the batching step wants. */
export function addToBatch(batch: SinkBatch, item: SinkItem, nowMs: number): SinkBatch {
  if (batch.records === 0) batch.startedAtMs = nowMs
  batch.records++
  if (item.kind === 'row') batch.rows.push(item.row)
  else if (item.kind === 'failed') batch.failed.push(item.failed)
  else batch.alreadyStored++
  return batch
}

/**
 * About what an item weighs in memory and in the insert: a row's line, a failed record's key and
 * value plus the headers its dead letter adds. The byte limit counts these.
 */
export function itemBytes(item: SinkItem): number {
  if (item.kind === 'row') return item.row.line.length
  if (item.kind === 'stored') return 0
  const { record } = item.failed
  return (record.key?.length ?? 0) + (record.value?.length ?? 0) + 1_024
}
