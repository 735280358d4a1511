import { Kafka, logLevel } from 'kafkajs'
import { pipelineTopics } from '@audit-pipeline/config'

/** Creates the pipeline's topics on the stack's own broker (never on a cluster it was given). */
export async function createPipelineTopics(brokers: string[]): Promise<string[]> {
  const admin = new Kafka({ clientId: 'audit-stack', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const topics = Object.values(pipelineTopics)
    await admin.createTopics({
      topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions })),
      waitForLeaders: true,
    })
    return topics.map((t) => t.name)
  } finally {
    await admin.disconnect()
  }
}
