import { randomBytes } from 'node:crypto'
import type { Kafka, KafkaMessage } from 'kafkajs'
import { signedCheckpointOfJson, type SignedCheckpoint } from '@audit-pipeline/integrity'
import { VerificationError } from './verificationError.js'

/** The topic the sink publishes checkpoints to unless SINK_CHECKPOINT_TOPIC names another. */
export const defaultCheckpointTopic = 'audit.checkpoints'

/**
 * Every checkpoint in the checkpoints topic (the sink publishes each one there after storing it;
 * compacted, so it keeps them all), read from the beginning to the end each partition had when
 * the read started: a topic written to meanwhile still ends. Reads with a throwaway consumer group
 * that commits nothing. Throws VerificationError CHECKPOINT_TOPIC_INVALID when the topic is missing
 * or holds a message that is not a signed checkpoint.
 */
export async function readCheckpointTopic(kafka: Kafka, topic: string): Promise<SignedCheckpoint[]> {
  const ends = await endOffsets(kafka, topic)
  const pending = new Map([...ends].filter(([, range]) => range.low < range.high))
  if (pending.size === 0) return []

  const checkpoints: SignedCheckpoint[] = []
  const positions = new Map([...pending].map(([partition, range]) => [partition, range.low]))
  let failure: { error: unknown } | undefined
  let finish!: () => void
  const finished = new Promise<void>((resolve) => (finish = resolve))
  const fail = (error: unknown) => {
    failure ??= { error }
    finish()
  }
  const consumer = kafka.consumer({
    groupId: `audit-verify-checkpoints.${randomBytes(6).toString('hex')}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 500,
  })
  const advance = (partition: number, next: bigint) => {
    const range = pending.get(partition)
    if (range === undefined) return
    if (next > (positions.get(partition) ?? 0n)) positions.set(partition, next)
    if (next >= range.high) {
      pending.delete(partition)
      if (pending.size === 0) finish()
    }
  }
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(payload.error)
  })
  // Compaction leaves gaps, and a fetch can hold nothing but them: the position still moves.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.batchSize === 0)
      advance(payload.partition, BigInt(payload.lastOffset) + 1n)
  })
  try {
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload
        const range = pending.get(batch.partition)
        if (failure !== undefined || range === undefined) return
        const from = positions.get(batch.partition) ?? range.low
        try {
          for (const message of batch.messages) {
            const offset = BigInt(message.offset)
            if (offset < from || offset >= range.high) continue
            const checkpoint = checkpointOfMessage(
              message,
              `${topic} partition ${batch.partition} offset ${offset}`,
            )
            if (checkpoint !== undefined) checkpoints.push(checkpoint)
          }
        } catch (error) {
          // Thrown out of eachBatch, kafkajs would retry the batch forever: stop the read instead.
          fail(error)
          return
        }
        advance(batch.partition, BigInt(batch.lastOffset()) + 1n)
        await payload.heartbeat()
      },
    })
    await finished
  } finally {
    await consumer.disconnect()
  }
  if (failure !== undefined) throw failure.error
  return checkpoints
}

async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    // Asked first: asking a broker that creates topics on use for a missing topic's offsets creates it.
    if (!(await admin.listTopics()).includes(topic)) {
      throw new VerificationError(
        'CHECKPOINT_TOPIC_INVALID',
        `the checkpoints topic ${topic} does not exist (the sink creates it when it signs checkpoints; SINK_CHECKPOINT_TOPIC names it)`,
      )
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(
      offsets.map(({ partition, low, high }) => [partition, { low: BigInt(low), high: BigInt(high) }]),
    )
  } finally {
    await admin.disconnect()
  }
}

/**
 * The signed checkpoint a message holds (undefined for a tombstone), with exactly the checkpoint's
 * fields (signedCheckpointOfJson); VerificationError CHECKPOINT_TOPIC_INVALID naming `where` for
 * anything else. Pure.
 */
export function checkpointOfMessage(
  message: Pick<KafkaMessage, 'value'>,
  where: string,
): SignedCheckpoint | undefined {
  if (message.value === null) return undefined
  const read = signedCheckpointOfJson(message.value.toString('utf8'))
  if ('problem' in read) {
    throw new VerificationError(
      'CHECKPOINT_TOPIC_INVALID',
      `${where} is not a signed checkpoint: ${read.problem}`,
    )
  }
  return read.checkpoint
}
