import type { IHeaders } from 'kafkajs'

/** One consumed Kafka message with where it came from: what a consumer's first step receives. */
export type KafkaRecord = {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: IHeaders
  /** Kafka's timestamp, ms since the epoch as text (-1 when the broker had none). */
  readonly timestamp: string
  /** The partition's end offset when the record was fetched: the record is the last one when offset + 1 reaches it. */
  readonly highWatermark?: string
}

/** A position to commit: the next offset to read from a partition. */
export type PartitionOffset = { readonly topic: string; readonly partition: number; readonly offset: string }

/**
 * What committing a message (or everything up to it) means, per partition: the offset after it.
 * A step that merges messages merges their committables, so whatever finally writes a batch
 * commits exactly what it wrote (arroyo's `committable`).
 */
export type Committable = ReadonlyMap<string, PartitionOffset>

/** A payload on its way through the steps, with the offsets it makes committable. */
export type StreamMessage<T> = { readonly payload: T; readonly committable: Committable }

/** The offset to commit after processing `offset`: the next one to read. Written once, here. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString()
}

/** A stable key for a topic partition. */
export function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/** The committable of a single record: its partition at the offset after it. */
export function committableOf(record: Pick<KafkaRecord, 'topic' | 'partition' | 'offset'>): Committable {
  const { topic, partition } = record
  return new Map([[partitionId(topic, partition), { topic, partition, offset: nextOffset(record.offset) }]])
}

/** Both committables together; per partition the later offset wins. */
export function mergeCommittable(into: Map<string, PartitionOffset>, from: Committable): void {
  for (const [id, position] of from) {
    const held = into.get(id)
    if (!held || BigInt(position.offset) > BigInt(held.offset)) into.set(id, position)
  }
}
