import type { Kafka } from 'kafkajs'
import { waitFor } from './waitFor.js'

/**
 * Waits until a group's committed offsets are the topic's end offsets (empty partitions aside):
 * everything read, nothing left behind, nothing committed past the end.
 */
export async function waitForCommittedToEnd(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs = 10_000,
): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const ends = await admin.fetchTopicOffsets(topic)
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
        return ends.every(
          (end) =>
            end.high === '0' ||
            committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
        )
      },
      { timeoutMs, description: `${groupId}'s committed offsets at the end of ${topic}` },
    )
  } finally {
    await admin.disconnect()
  }
}
