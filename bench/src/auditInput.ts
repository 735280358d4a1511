import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { parseEventJson, partitionKeyFor, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'

export type FilledInput = {
  events: number
  /** Average Avro message size, bytes (value only). */
  valueBytes: number
  /** The first messages written, for measuring the pipeline's stages without Kafka. */
  sample: Buffer[]
}

/**
 * Writes `events` Avro audit events to `topic`, as producers leave them for the normalizer: the
 * reference story's third event (a priority lowered with a solution, changes and snapshots), each
 * with its own event_id and one of 10,000 tickets, keyed like the producer SDK keys them. Encoded
 * once; the bench measures what reads this topic, not this.
 */
export async function fillAuditInput(options: {
  brokers: string[]
  codec: AuditEventCodec
  topic: string
  events: number
  sampleSize: number
}): Promise<FilledInput> {
  const template = parseEventJson(JSON.parse(ticketExampleLines()[2] ?? '') as unknown)
  const recordedAt = Date.now()
  const kafka = new Kafka({ clientId: 'bench-fill', brokers: options.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const sample: Buffer[] = []
  let bytes = 0
  // About 0.5 MB per partition and request at this event size, under the broker's 1 MiB batch limit.
  const batchSize = 4_000
  try {
    for (let i = 0; i < options.events; i += batchSize) {
      const messages: Message[] = []
      for (let j = i; j < Math.min(i + batchSize, options.events); j++) {
        const event: AuditEvent = {
          ...template,
          event_id: randomUUID(),
          object: { ...template.object, id: `9548-B${j % 10_000}` },
          recorded_at: recordedAt,
        }
        const value = options.codec.encode(event)
        bytes += value.length
        if (sample.length < options.sampleSize) sample.push(value)
        messages.push({ key: partitionKeyFor(event), value })
      }
      await producer.send({ topic: options.topic, acks: -1, messages })
    }
  } finally {
    await producer.disconnect()
  }
  return { events: options.events, valueBytes: bytes / options.events, sample }
}
