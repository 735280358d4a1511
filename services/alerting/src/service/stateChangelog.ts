import { randomUUID } from 'node:crypto'
import type { Kafka, Message, Producer } from 'kafkajs'
import type { StateChange } from '../engine/trackedStore.js'

/** The key of the marker a restoring evaluator writes and reads up to. */
const restoreMarkerKey = '\u0000restore-marker'

/** A state change as a changelog message: the key, the JSON value, a tombstone for a removal. */
export function changelogMessage(change: StateChange): Message {
  return { key: change.key, value: change.value === null ? null : JSON.stringify(change.value) }
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
}): Promise<{ entries: number }> {
  const { kafka, producer, topic } = options
  const admin = kafka.admin()
  await admin.connect()
  const partitions = (await admin.fetchTopicOffsets(topic)).map(({ partition }) => partition)
  await admin.disconnect()

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
  return { entries }
}
