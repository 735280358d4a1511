import { logLevel, type Kafka, type KafkaMessage } from 'kafkajs'
import { uniqueName } from './uniqueName.js'

/** A message read by a TopicCollector, with where it was read. */
export type CollectedMessage = KafkaMessage & { topic: string; partition: number }

export type TopicCollector = {
  /** Every message read so far, in arrival order (per partition: offset order). */
  readonly messages: readonly CollectedMessage[]
  stop(): Promise<void>
}

/**
 * Reads topics from the beginning into an array, in the background, under a throwaway group:
 * tests poll `messages` with waitFor. Register `stop` with onTestFinished.
 */
export async function collectTopics(kafka: Kafka, topics: readonly string[]): Promise<TopicCollector> {
  const messages: CollectedMessage[] = []
  const consumer = kafka.consumer({
    groupId: uniqueName('test-collector'),
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  })
  consumer.logger().setLogLevel(logLevel.NOTHING)
  await consumer.connect()
  await consumer.subscribe({ topics: [...topics], fromBeginning: true })
  await consumer.run({
    eachBatch: ({ batch }) => {
      for (const message of batch.messages) {
        messages.push({ ...message, topic: batch.topic, partition: batch.partition })
      }
      return Promise.resolve()
    },
  })
  return { messages, stop: () => consumer.disconnect() }
}
