import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs'
import { pipelineTopics } from '@audit-pipeline/config'

/** Creates the pipeline's topics on the stack's own cluster (never on a cluster it was given). */
export async function createPipelineTopics(brokers: string[]): Promise<string[]> {
  const admin = new Kafka({ clientId: 'audit-stack', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const topics = Object.values(pipelineTopics)
    await createTopicsWithLeaders(
      admin,
      topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        ...('config' in t && {
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        }),
      })),
    )
    return topics.map((t) => t.name)
  } finally {
    await admin.disconnect()
  }
}

/**
 * Creates topics and waits until each partition has a leader. Not kafkajs's `waitForLeaders`: it
 * asks the broker it created them on for metadata and gives up at the first "unknown topic", which
 * on a three-node KRaft cluster is a broker whose metadata has not caught up yet, not an error.
 */
export async function createTopicsWithLeaders(
  admin: Admin,
  topics: ITopicConfig[],
  timeoutMs = 30_000,
): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false })
  const names = topics.map((t) => t.topic)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let lastError: unknown
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names })
      if (found.length === names.length && found.every((t) => t.partitions.every((p) => p.leader >= 0)))
        return
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(
        `topics ${names.join(', ')} had no leader for every partition after ${timeoutMs / 1000} s`,
        {
          cause: lastError,
        },
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
