import type { Kafka, KafkaMessage } from 'kafkajs'
import { DeadLetterToolError } from './deadLetterToolError.js'

export type PartitionRange = {
  partition: number
  /** The first offset to read. */
  startOffset: bigint
  /** The high watermark when the read started: the offset after the last message to read. */
  endOffset: bigint
}

export type RangeBatch = {
  partition: number
  /** Messages of one partition in offset order, each read once, all below the partition's end. */
  messages: KafkaMessage[]
  /**
   * Commits, in the reading consumer group, the offset after this batch: call it only once what
   * the batch holds is safely done with (the committed value is the next offset to read).
   */
  commit: () => Promise<void>
}

export type ReadTopicRangeOptions = {
  kafka: Kafka
  topic: string
  groupId: string
  /** Each partition starts at the group's committed offset (the beginning if none), or at the beginning. */
  startAt: 'committed' | 'beginning'
  /** Returns true when it needs nothing more from that partition. */
  onBatch: (batch: RangeBatch) => Promise<boolean>
}

/**
 * Reads `topic` up to its high watermarks as they were when the call started, so a topic written
 * to meanwhile still ends. Resolves once every partition reached its end (or `onBatch` had
 * enough); an empty topic resolves without starting a consumer. Nothing is committed unless
 * `onBatch` commits.
 */
export async function readTopicRange(options: ReadTopicRangeOptions): Promise<void> {
  const { kafka, topic, groupId, onBatch } = options
  const ranges = await partitionRanges(options)
  const pending = new Map(ranges.filter((r) => r.startOffset < r.endOffset).map((r) => [r.partition, r]))
  if (pending.size === 0) return

  // The next offset to hand over, per partition: kafkajs re-fetches from the last committed
  // offset after a restart, and what was already handed over must not be handed over twice.
  const positions = new Map([...pending.values()].map((r) => [r.partition, r.startOffset]))
  let failure: { error: unknown } | undefined
  let finish: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const fail = (error: unknown) => {
    failure ??= { error }
    finish()
  }

  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 1_000 })
  const advance = (partition: number, nextOffset: bigint, enough: boolean) => {
    const range = pending.get(partition)
    if (!range) return
    if (nextOffset > (positions.get(partition) ?? 0n)) positions.set(partition, nextOffset)
    if (enough || nextOffset >= range.endOffset) {
      pending.delete(partition)
      consumer.pause([{ topic, partitions: [partition] }])
      if (pending.size === 0) finish()
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const assigned = new Set(payload.memberAssignment[topic] ?? [])
    const elsewhere = [...pending.keys()].filter((p) => !assigned.has(p))
    if (elsewhere.length > 0) {
      fail(
        new DeadLetterToolError(
          'REPLAY_IN_PROGRESS',
          `partition(s) ${elsewhere.join(', ')} of ${topic} went to another member of consumer group ${groupId}: is another replay of ${topic} running?`,
        ),
      )
    }
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error)
  })
  // A batch holding only transaction markers (a transactional writer) never reaches eachBatch,
  // but it moves the position: without this, a partition ending in a marker would never end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.batchSize === 0 && failure === undefined) {
      advance(payload.partition, BigInt(payload.lastOffset) + 1n, false)
    }
  })

  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload
        const range = pending.get(batch.partition)
        if (failure !== undefined || batch.topic !== topic || !range) return
        const position = positions.get(batch.partition) ?? range.startOffset
        const messages = batch.messages.filter((m) => {
          const offset = BigInt(m.offset)
          return offset >= position && offset < range.endOffset
        })
        const lastOffset = BigInt(batch.lastOffset())
        const nextOffset = lastOffset + 1n < range.endOffset ? lastOffset + 1n : range.endOffset
        try {
          const enough =
            messages.length > 0 &&
            (await onBatch({
              partition: batch.partition,
              messages,
              commit: () =>
                consumer.commitOffsets([
                  { topic, partition: batch.partition, offset: nextOffset.toString() },
                ]),
            }))
          advance(batch.partition, nextOffset, enough)
          await payload.heartbeat()
        } catch (error) {
          // Thrown out of eachBatch, kafkajs would retry the batch forever; stop the read instead.
          fail(error)
        }
      },
    })
    await finished
  } finally {
    await consumer.disconnect()
  }
  if (failure !== undefined) throw failure.error
}

/** Where each partition starts and ends; throws if the topic does not exist. */
async function partitionRanges({
  kafka,
  topic,
  groupId,
  startAt,
}: ReadTopicRangeOptions): Promise<PartitionRange[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    // Checked first: asking for the offsets of a missing topic can create it on a broker that
    // auto-creates topics.
    if (!(await admin.listTopics()).includes(topic)) {
      throw new DeadLetterToolError('TOPIC_MISSING', `topic ${topic} does not exist`)
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    const committed = new Map<number, bigint>()
    if (startAt === 'committed') {
      const [group] = await admin.fetchOffsets({ groupId, topics: [topic] })
      for (const { partition, offset } of group?.partitions ?? []) {
        // -1: nothing committed; the consumer starts at the beginning.
        if (BigInt(offset) >= 0n) committed.set(partition, BigInt(offset))
      }
    }
    return offsets.map(({ partition, low, high }) => {
      const from = committed.get(partition)
      // A committed offset below `low` points at deleted messages; the consumer resets to `low`.
      const startOffset = from !== undefined && from > BigInt(low) ? from : BigInt(low)
      return { partition, startOffset, endOffset: BigInt(high) }
    })
  } finally {
    await admin.disconnect()
  }
}
