import { randomUUID } from 'node:crypto'
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs'
import { retryWithBackoff } from '@audit-pipeline/service-runtime'

// kafkajs is CommonJS: its error classes are read from the default export under Node's ESM.
const { KafkaJSError } = kafkajs
import type { StateChange } from '../engine/trackedStore.js'

/** The key of the marker a restoring evaluator writes and reads up to. */
const restoreMarkerKey = '\u0000restore-marker'

/**
 * A state change as a changelog message: the key, the JSON text, a tombstone for a removal. The
 * text was made when the change was sealed, after the event that made it (engine/trackedStore.ts):
 * nothing here can fail on an entry's content.
 */
export function changelogMessage(change: StateChange): Message {
  return { key: change.key, value: change.value }
}

/**
 * Reads the changelog from the start up to a marker this instance writes first, handing every
 * entry (the latest per key wins) to `load`. Reading up to the topic's end offset instead would
 * wait forever: the last offset of a transactional topic is usually a commit marker, which a
 * consumer never receives. The marker is written after the transactional producer took over
 * (fencing the previous instance and ending its open transaction), so everything committed
 * before is read, nothing aborted is (read_committed), and nothing is written meanwhile.
 */
export async function restoreState(options: {
  kafka: Kafka
  producer: Producer
  topic: string
  groupId: string
  load: (key: string, value: unknown) => void
}): Promise<{ entries: number; partitions: number }> {
  const { kafka, producer, topic } = options
  const admin = kafka.admin()
  await admin.connect()
  // A changelog created a moment ago (prepareTopics) has its leader elected, but the broker may
  // not act as that leader yet and answer NOT_LEADER_OR_FOLLOWER for a few ms: retried, bounded.
  const offsets = await retryWithBackoff(() => admin.fetchTopicOffsets(topic), {
    isRetriable: (error) => error instanceof KafkaJSError && error.retriable,
    policy: { initialDelayMs: 50, maxDelayMs: 1_000, multiplier: 2 },
    maxAttempts: 10,
  }).finally(() => admin.disconnect())
  const partitions = offsets.map(({ partition }) => partition)

  const marker = randomUUID()
  const transaction = await producer.transaction()
  try {
    await transaction.send({
      topic,
      messages: partitions.map((partition) => ({ key: restoreMarkerKey, value: marker, partition })),
    })
    await transaction.commit()
  } catch (error) {
    await transaction.abort().catch(() => undefined)
    throw error
  }

  const consumer = kafka.consumer({
    // No offsets are ever committed under it: each restore reads from the start.
    groupId: `${options.groupId}-restore`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  })
  const pending = new Set(partitions)
  let entries = 0
  let reachedAll!: () => void
  let failed!: (error: unknown) => void
  const reached = new Promise<void>((resolve, reject) => {
    reachedAll = resolve
    failed = reject
  })
  // Awaited once reading runs; a failure before that must not count as unhandled.
  reached.catch(() => undefined)
  // A consumer kafkajs gave up on would never reach the marker: the restore fails instead of
  // waiting for ever (the evaluator's runtime then tries again).
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) failed(payload.error)
  })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const key = message.key?.toString() ?? ''
          if (key === restoreMarkerKey) {
            if (message.value?.toString() === marker) pending.delete(batch.partition)
            continue
          }
          try {
            options.load(
              key,
              message.value === null ? null : (JSON.parse(message.value.toString()) as unknown),
            )
          } catch (error) {
            // A changelog this version cannot read: refuse to start rather than run on a guess.
            failed(
              new Error(
                `the state changelog ${topic} holds an unreadable entry at offset ${message.offset}`,
                { cause: error },
              ),
            )
            return
          }
          entries++
        }
        if (pending.size === 0) reachedAll()
        await Promise.resolve()
      },
    })
    await reached
  } finally {
    await consumer.disconnect()
  }
  return { entries, partitions: partitions.length }
}
