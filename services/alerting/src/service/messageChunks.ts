import type { Message, TopicMessages } from 'kafkajs'

/**
 * A broker refuses a record batch over `message.max.bytes` (1 MiB by default), and kafkajs sends
 * one batch per partition per request; a transaction after a backlog can hold far more state
 * changes than that. Splits each topic's messages into chunks of at most `maxBytes` (estimated:
 * key, value, headers and a per-record allowance) and pairs them into rounds with at most one
 * chunk per topic: one produce request per round, in order, so a key's changes stay in order.
 */
export function produceRounds(topicMessages: TopicMessages[], maxBytes: number): TopicMessages[][] {
  const chunksByTopic = topicMessages.map(({ topic, messages }) =>
    chunk(messages, maxBytes).map((part) => ({ topic, messages: part })),
  )
  const rounds = Math.max(0, ...chunksByTopic.map((chunks) => chunks.length))
  return Array.from({ length: rounds }, (_, round) =>
    chunksByTopic.flatMap((chunks) => (chunks[round] ? [chunks[round]] : [])),
  )
}

/** Record framing and batch overhead per message, generously. */
const perRecordAllowance = 64

export function estimatedBytes(message: Message): number {
  const size = (value: Message['value'] | Message['key']) =>
    value === null || value === undefined
      ? 0
      : typeof value === 'string'
        ? Buffer.byteLength(value)
        : value.length
  let bytes = perRecordAllowance + size(message.key) + size(message.value)
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes +=
      Buffer.byteLength(name) +
      (Array.isArray(value) ? value : [value]).reduce((sum, v) => sum + size(v as Buffer | string), 0)
  }
  return bytes
}

function chunk(messages: Message[], maxBytes: number): Message[][] {
  const chunks: Message[][] = []
  let current: Message[] = []
  let bytes = 0
  for (const message of messages) {
    const size = estimatedBytes(message)
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(message)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
