import type { TopicMessages } from 'kafkajs'
import { chunksOfBytes, recordBytes } from '@audit-pipeline/kafka'

/**
 * A transaction after a backlog can hold far more state changes than a broker takes in one record
 * batch (`message.max.bytes`). Splits each topic's messages into chunks of at most `maxBytes` and
 * pairs them into rounds with at most one chunk per topic: one produce request per round, in
 * order, so a key's changes stay in order.
 */
export function produceRounds(topicMessages: TopicMessages[], maxBytes: number): TopicMessages[][] {
  const chunksByTopic = topicMessages.map(({ topic, messages }) =>
    chunksOfBytes(messages, maxBytes, recordBytes).map((part) => ({ topic, messages: part })),
  )
  const rounds = Math.max(0, ...chunksByTopic.map((chunks) => chunks.length))
  return Array.from({ length: rounds }, (_, round) =>
    chunksByTopic.flatMap((chunks) => (chunks[round] ? [chunks[round]] : [])),
  )
}
