import { partitionId } from '@audit-pipeline/kafka'
import type { StoredRow } from './storedRows.js'

/** Event ids by offset: what is known to be stored, or taken, at each offset of one partition. */
type EventsByOffset = Map<bigint, Set<string>>

type PartitionRows = {
  /** The offset after the last record seen in this generation: where reading is expected to go on. */
  next: bigint
  /** Rows ClickHouse held at the last look-up, at and after the offset it was asked from. */
  stored: EventsByOffset
  /**
   * Rows this generation took and has not committed yet: in a batch, being written, or written.
   * Records read again before their commit (kafkajs re-reads from the last commit after a
   * rebalance) are the same records: skipping them is right, since the batch holding them either
   * commits or fails, and a failure restarts the steps with an empty ledger.
   */
  taken: EventsByOffset
}

/**
 * `write`: a new row. `stored`: ClickHouse holds its row (found by the look-up): not inserted
 * again, but still chained. `taken`: a re-read of a record this generation took already: the
 * batch holding it does everything for it.
 */
export type SkipDecision = 'write' | 'stored' | 'taken'

/**
 * Whether a record's row is known to be stored: a row with the same offset *and* the same event
 * id. The offset alone would say so for a topic deleted and created again (its offsets start at
 * 0 again, over the old topic's rows), and the highest stored offset would also say so for the
 * rows of a batch ClickHouse had only partly written (one part per month) or refused (dead
 * letters not sent yet). Pure.
 */
export function isStored(known: ReadonlyMap<bigint, ReadonlySet<string>>, offset: bigint, eventId: string) {
  return known.get(offset)?.has(eventId.toLowerCase()) ?? false
}

/**
 * What one generation of the sink's steps knows about stored rows, per partition, and the
 * decision to skip a record. Pure: the look-ups are made by the caller when `needsLookup` says so.
 */
export type StoredRowLedger = {
  /**
   * Whether `offset` does not continue where this generation left the partition: its first
   * record, or a jump (a re-read after a rebalance, a topic recreated). Stored rows are then
   * looked up from `offset` and given to `learn` before `decide`.
   */
  needsLookup(topic: string, partition: number, offset: bigint): boolean
  /** The rows ClickHouse holds from the offset asked; replaces what an earlier look-up said. */
  learn(topic: string, partition: number, rows: readonly StoredRow[]): void
  /**
   * Decides a record (`eventId` undefined: it gave no row, so is never skipped) and moves the
   * partition on past it. A row to write is remembered as taken until its offset is committed.
   */
  decide(topic: string, partition: number, offset: bigint, eventId: string | undefined): SkipDecision
  /** After a commit: forgets the partition's rows below `nextOffset`, which are never read again. */
  committed(topic: string, partition: number, nextOffset: bigint): void
  /** Rows remembered, all partitions together (bounded by about two batches). */
  readonly size: number
}

export function createStoredRowLedger(): StoredRowLedger {
  const partitions = new Map<string, PartitionRows>()
  const add = (into: EventsByOffset, offset: bigint, eventId: string) => {
    const ids = into.get(offset)
    if (ids) ids.add(eventId.toLowerCase())
    else into.set(offset, new Set([eventId.toLowerCase()]))
  }
  const forgetBelow = (rows: EventsByOffset, offset: bigint) => {
    for (const key of rows.keys()) if (key < offset) rows.delete(key)
  }

  return {
    needsLookup(topic, partition, offset) {
      return partitions.get(partitionId(topic, partition))?.next !== offset
    },
    learn(topic, partition, rows) {
      const id = partitionId(topic, partition)
      const stored: EventsByOffset = new Map()
      for (const row of rows) add(stored, row.offset, row.eventId)
      const known = partitions.get(id)
      if (known) known.stored = stored
      else partitions.set(id, { next: -1n, stored, taken: new Map() })
    },
    decide(topic, partition, offset, eventId) {
      const id = partitionId(topic, partition)
      let known = partitions.get(id)
      if (!known) partitions.set(id, (known = { next: offset, stored: new Map(), taken: new Map() }))
      known.next = offset + 1n
      if (eventId === undefined) return 'write'
      if (isStored(known.taken, offset, eventId)) return 'taken'
      const stored = isStored(known.stored, offset, eventId)
      // Reading has passed this offset; a re-read of it is a jump, which looks up again.
      known.stored.delete(offset)
      add(known.taken, offset, eventId)
      return stored ? 'stored' : 'write'
    },
    committed(topic, partition, nextOffset) {
      const known = partitions.get(partitionId(topic, partition))
      if (!known) return
      forgetBelow(known.taken, nextOffset)
      forgetBelow(known.stored, nextOffset)
    },
    get size() {
      let rows = 0
      for (const known of partitions.values()) rows += known.stored.size + known.taken.size
      return rows
    },
  }
}
