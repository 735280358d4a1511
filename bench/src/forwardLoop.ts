import { Kafka, logLevel, Partitioners, type Admin, type KafkaMessage, type Message } from 'kafkajs'
import { waitUntilCommitted } from './committedOffsets.js'
import { measured, type Measured } from './measured.js'
import { watchProduceRequests, type ProduceRequests } from './produceRequests.js'

/** A produce request's payload stays under this, as the normalizer's flushes do (the broker refuses batches over 1 MiB). */
const maxRequestBytes = 768 * 1024

/**
 * The baseline for the normalizer: the same consumer-to-producer loop with the same delivery
 * guarantee and no decoding. Each fetched batch's messages go out unchanged (key and value bytes)
 * with an idempotent producer and acks=all, then the offset after the batch's last message is
 * committed; six partitions at a time. Timed from connecting until the group's committed offsets
 * reach `ends`.
 */
export async function forwardLoop(options: {
  brokers: string[]
  admin: Admin
  input: string
  ends: Map<number, bigint>
  output: string
  groupId: string
}): Promise<Measured & { produce: ProduceRequests }> {
  const kafka = new Kafka({ clientId: 'bench-forward', brokers: options.brokers, logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 100 })
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  const produce = watchProduceRequests(producer)
  let crashed: string | undefined
  consumer.on(consumer.events.CRASH, ({ payload }) => (crashed = payload.error.message))
  try {
    const times = await measured(async () => {
      await producer.connect()
      await consumer.connect()
      await consumer.subscribe({ topics: [options.input], fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: 6,
        eachBatch: async ({ batch }) => {
          const last = batch.messages.at(-1)
          if (!last) return
          for (const messages of chunks(batch.messages)) {
            await producer.sendBatch({ topicMessages: [{ topic: options.output, messages }], acks: -1 })
          }
          const next = (BigInt(last.offset) + 1n).toString()
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }])
        },
      })
      await waitUntilCommitted(options.admin, {
        groupId: options.groupId,
        topic: options.input,
        ends: options.ends,
        failure: () => crashed,
      })
    })
    return { ...times, produce }
  } finally {
    await consumer.disconnect()
    await producer.disconnect()
  }
}

function* chunks(messages: KafkaMessage[]): Generator<Message[]> {
  let chunk: Message[] = []
  let bytes = 0
  for (const { key, value } of messages) {
    const size = (key?.length ?? 0) + (value?.length ?? 0) + 32
    if (chunk.length > 0 && bytes + size > maxRequestBytes) {
      yield chunk
      chunk = []
      bytes = 0
    }
    chunk.push({ key, value })
    bytes += size
  }
  if (chunk.length > 0) yield chunk
}
