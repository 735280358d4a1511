import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import type { Kafka } from 'kafkajs'
import { onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { uniqueName, waitFor } from '@audit-pipeline/testing'

export type ReadEvent = { partition: number; event: AuditEvent; eventIdHeader: string | undefined }

/** Every event on the topic, decoded, with its partition and id header, in partition order; waits for `count`. */
export async function readEvents(
  kafka: Kafka,
  registry: SchemaRegistry,
  topic: string,
  count: number,
): Promise<ReadEvent[]> {
  const codec = await createAuditEventCodec({ registry })
  const read: ReadEvent[] = []
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 })
  await consumer.connect()
  onTestFinished(() => consumer.disconnect())
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const event = await codec.decode(message.value!)
      read.push({ partition, event, eventIdHeader: message.headers?.['audit-event-id']?.toString() })
    },
  })
  await waitFor(() => read.length >= count, { timeoutMs: 30_000, description: `${count} events on ${topic}` })
  return read
}

/** Records on the topic, summed over its partitions: what was sent, whatever reads it. */
export async function endOffsetTotal(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((sum, p) => sum + Number(p.high), 0)
  } finally {
    await admin.disconnect()
  }
}
