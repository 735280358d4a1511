import { createHash } from 'node:crypto'
import type { IHeaders } from 'kafkajs'

/** Where rows came from: one partition's contiguous run of offsets in this batch. */
export type OffsetRange = { topic: string; partition: number; first: bigint; last: bigint }

/** A row to insert with where it came from, so a rejected row can be dead-lettered as it arrived. */
export type BatchRow<Row> = {
  row: Row
  /** About the row's size, for the byte limit. */
  bytes: number
  topic: string
  partition: number
  offset: bigint
  /** The Kafka message it was read from, kept until the insert is confirmed. */
  message: SourceMessage
}

/** The parts of a Kafka message a dead letter copies. */
export type SourceMessage = {
  key: Buffer | null
  value: Buffer | null
  headers?: IHeaders
  timestamp: string
}

/**
 * Rows from any partitions, written by one insert. It owns its offsets: once the insert is
 * confirmed, `commitOffsets()` are exactly what it wrote (the next offset to read per partition).
 */
export type PendingBatch<Row> = {
  readonly rows: readonly BatchRow<Row>[]
  readonly bytes: number
  /** When the first row arrived (ms, the sink's clock); undefined when empty. */
  readonly startedAtMs: number | undefined
  add(row: BatchRow<Row>, nowMs: number): void
  /**
   * Also advance a partition's offset past a message that gave no row (dead-lettered, or already
   * stored before a crash), so committing the batch moves past it.
   */
  advance(topic: string, partition: number, offset: bigint, nowMs: number): void
  ranges(): OffsetRange[]
  /** The last offset taken from a partition (row or not), to skip a re-read after a rebalance. */
  lastOffset(topic: string, partition: number): bigint | undefined
  commitOffsets(): { topic: string; partition: number; offset: string }[]
}

export function createPendingBatch<Row>(): PendingBatch<Row> {
  const rows: BatchRow<Row>[] = []
  const ranges = new Map<string, OffsetRange>()
  let bytes = 0
  let startedAtMs: number | undefined

  const extend = (topic: string, partition: number, offset: bigint, nowMs: number) => {
    startedAtMs ??= nowMs
    const key = `${topic}\u0000${partition}`
    const range = ranges.get(key)
    if (!range) ranges.set(key, { topic, partition, first: offset, last: offset })
    else {
      // A partition's messages arrive in order; a smaller offset would be a re-read after a
      // rebalance, which the caller must not mix into a batch.
      if (offset <= range.last) throw new Error(`offset ${offset} of ${key} is not after ${range.last}`)
      range.last = offset
    }
  }

  return {
    rows,
    get bytes() {
      return bytes
    },
    get startedAtMs() {
      return startedAtMs
    },
    add(row, nowMs) {
      extend(row.topic, row.partition, row.offset, nowMs)
      rows.push(row)
      bytes += row.bytes
    },
    advance: extend,
    ranges: () => [...ranges.values()].map((range) => ({ ...range })),
    lastOffset: (topic, partition) => ranges.get(`${topic}\u0000${partition}`)?.last,
    commitOffsets: () =>
      [...ranges.values()].map(({ topic, partition, last }) => ({
        topic,
        partition,
        offset: (last + 1n).toString(),
      })),
  }
}

/**
 * The insert's `insert_deduplication_token`: the same rows from the same offsets give the same
 * token, so an insert retried after a timeout (that ClickHouse may have applied) is stored once.
 * Sub-batches written after a row was rejected name their own row offsets instead.
 */
export function deduplicationToken(ranges: readonly OffsetRange[], rowOffsets?: readonly string[]): string {
  const text = [...ranges]
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
    .map((r) => `${r.topic}/${r.partition}/${r.first}-${r.last}`)
    .join(',')
  const hash = createHash('sha256').update(text)
  if (rowOffsets) hash.update(`|${rowOffsets.join(',')}`)
  return `audit-sink-${hash.digest('hex')}`
}
