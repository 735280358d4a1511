import type { Kafka } from 'kafkajs'
import { uniqueName } from './uniqueName.js'

/** A new topic of its own for one test, its leaders elected: `<prefix>_<unique>`. */
export async function createTestTopic(kafka: Kafka, prefix: string, partitions: number): Promise<string> {
  const topic = uniqueName(prefix)
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}
