import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin } from 'kafkajs'

/**
 * Creates `topics` and resolves once every partition has a leader. kafkajs's own `waitForLeaders`
 * gives up when the broker does not know a new topic yet (UNKNOWN_TOPIC_OR_PARTITION, which a
 * KRaft broker answers until the creation reaches its metadata), so this asks again instead.
 */
export async function createBenchTopics(
  admin: Admin,
  topics: readonly string[],
  options: { partitions: number; timeoutMs?: number },
): Promise<void> {
  const { partitions, timeoutMs = 30_000 } = options
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: partitions })),
    waitForLeaders: false,
  })
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const ready = await admin.fetchTopicMetadata({ topics: [...topics] }).then(
      (metadata) =>
        metadata.topics.length === topics.length &&
        metadata.topics.every(
          (topic) => topic.partitions.length === partitions && topic.partitions.every((p) => p.leader >= 0),
        ),
      () => false,
    )
    if (ready) return
    if (performance.now() > deadline) {
      throw new Error(`topics have no leader after ${timeoutMs / 1000} s: ${topics.join(', ')}`)
    }
    await sleep(50)
  }
}
