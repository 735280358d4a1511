import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import type { ReadRecord } from './kafkaClientsDelivery.js'
import { sequenceOf } from './kafkaClientsRecords.js'

/** What kafkajs decodes from each record batch and leaves on every message (not in its types). */
type BatchContext = { producerId: string; producerEpoch: number; firstSequence: number; firstOffset: string }

/** The end offset (high watermark) of each partition of `topic`. */
export async function topicEnds(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]))
}

/** The offsets `groupId` committed on `topic`, by partition (-1: none). */
export async function committedOffsets(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, BigInt(offset)]))
}

/**
 * The reference reader: reads all of `topic` with kafkajs (read_committed, a group of its own
 * that commits nothing), with each record's batch's producer id and sequence, until every
 * partition's position reaches its end offset as it was when called. Transaction markers count
 * toward the position (kafkajs reports them in END_BATCH_PROCESS). Throws when nothing moves for
 * `stallMs`.
 */
export async function readTopic(options: {
  brokers: string[]
  admin: Admin
  topic: string
  stallMs?: number
}): Promise<ReadRecord[]> {
  const { topic, stallMs = 30_000 } = options
  const ends = await topicEnds(options.admin, topic)
  const positions = new Map<number, bigint>([...ends.keys()].map((partition) => [partition, 0n]))
  const records: ReadRecord[] = []
  const finished = () => [...ends].every(([partition, end]) => (positions.get(partition) ?? 0n) >= end)
  if (finished()) return records

  const kafka = new Kafka({ clientId: 'bench-reader', brokers: options.brokers, logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `bench-reader-${randomUUID()}`, maxWaitTimeInMs: 100 })
  let crashed: string | undefined
  let movedAt = performance.now()
  let wake: (() => void) | undefined
  const advance = (partition: number, lastOffset: string) => {
    const next = BigInt(lastOffset) + 1n
    if (next > (positions.get(partition) ?? 0n)) {
      positions.set(partition, next)
      movedAt = performance.now()
    }
    if (finished()) wake?.()
  }
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    crashed = payload.error.message
    wake?.()
  })
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
    advance(payload.partition, payload.lastOffset),
  )
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        for (const message of batch.messages) {
          const context = (message as unknown as { batchContext: BatchContext }).batchContext
          const idempotent = context.producerId !== '-1'
          records.push({
            partition: batch.partition,
            offset: BigInt(message.offset),
            key: message.key?.toString('latin1') ?? '',
            sequence: sequenceOf(message.value),
            producerId: context.producerId,
            producerEpoch: context.producerEpoch,
            producerSequence: idempotent
              ? context.firstSequence + Number(BigInt(message.offset) - BigInt(context.firstOffset))
              : -1,
          })
        }
        return Promise.resolve()
      },
    })
    // Woken by each batch's end; the stall check needs a clock, so it also looks every 250 ms.
    while (!finished()) {
      if (crashed) throw new Error(`reading ${topic} back failed: ${crashed}`)
      if (performance.now() - movedAt > stallMs) {
        const behind = [...ends].filter(([partition, end]) => (positions.get(partition) ?? 0n) < end)
        throw new Error(
          `reading ${topic} back: no progress for ${stallMs / 1000} s; behind on ` +
            behind
              .map(([partition, end]) => `${partition} (at ${positions.get(partition)} of ${end})`)
              .join(', '),
        )
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 250).unref()
      })
    }
    return records
  } finally {
    await consumer.disconnect()
  }
}
