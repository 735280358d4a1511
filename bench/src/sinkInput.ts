import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import {
  parseEventJson,
  partitionKeyFor,
  type AuditEvent,
  type AuditEventDraft,
} from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'

/** The reference story's third event: a priority lowered with a solution, changes and snapshots. */
export function sinkEventTemplate(): AuditEventDraft {
  return parseEventJson(JSON.parse(ticketExampleLines()[2] ?? '') as unknown)
}

/**
 * Event `i` of a bench input: the template with its own event_id, one of 10,000 tickets, and
 * `nowMs` as both its occurrence and recording time (recent, so no retention TTL applies; the
 * latency run reads its produce time back from `recorded_at`).
 */
export function sinkEvent(template: AuditEventDraft, i: number, nowMs: number): AuditEvent {
  return {
    ...template,
    event_id: randomUUID(),
    object: { ...template.object, id: `9548-B${i % 10_000}` },
    occurred_at: nowMs,
    recorded_at: nowMs,
  }
}

export type FilledSinkInput = {
  events: number
  /** Average Avro message size, bytes (value only). */
  valueBytes: number
  seconds: number
  /** The first messages written, for timing the sink's steps without Kafka. */
  sample: Buffer[]
}

/** Messages per send: about 0.5 MB per partition and request, under the broker's 1 MiB batch limit. */
const messagesPerSend = 4_000

/**
 * Writes `events` Avro audit events to `topic` (Confluent wire format, the schema in the
 * registry), keyed as the producer SDK keys them. Not timed by the bench: a plain kafkajs
 * producer with `sendsInFlight` requests outstanding while the next batch is encoded, so a
 * backlog of a million events takes seconds rather than minutes.
 */
export async function fillSinkInput(options: {
  brokers: string[]
  codec: AuditEventCodec
  topic: string
  events: number
  sampleSize?: number
  sendsInFlight?: number
}): Promise<FilledSinkInput> {
  const { codec, topic, events, sampleSize = 0, sendsInFlight = 4 } = options
  const template = sinkEventTemplate()
  const kafka = new Kafka({
    clientId: 'bench-sink-fill',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  const started = performance.now()
  const sample: Buffer[] = []
  let bytes = 0
  const sends = concurrentSends(producer, topic, sendsInFlight)
  try {
    for (let i = 0; i < events; i += messagesPerSend) {
      const now = Date.now()
      const messages: Message[] = []
      for (let j = i; j < Math.min(i + messagesPerSend, events); j++) {
        const event = sinkEvent(template, j, now)
        const value = codec.encode(event)
        bytes += value.length
        if (sample.length < sampleSize) sample.push(value)
        messages.push({ key: partitionKeyFor(event), value })
      }
      await sends.send(messages)
    }
    await sends.settled()
  } finally {
    // After a failure, let the other sends finish before the producer goes (the failure is thrown on).
    await sends.drained()
    await producer.disconnect()
  }
  return { events, valueBytes: bytes / events, seconds: (performance.now() - started) / 1000, sample }
}

/**
 * At most `limit` sends to `topic` outstanding: `send` waits for room, and throws the first
 * failure of an earlier send; `settled` waits for the rest and throws that failure too;
 * `drained` only waits.
 */
export function concurrentSends(producer: Producer, topic: string, limit: number) {
  const inFlight = new Set<Promise<void>>()
  let failure: { error: unknown } | undefined
  const check = () => {
    if (failure) throw failure.error
  }
  return {
    async send(messages: Message[]): Promise<void> {
      while (inFlight.size >= limit) await Promise.race(inFlight)
      check()
      const send: Promise<void> = producer.send({ topic, acks: -1, messages }).then(
        () => void inFlight.delete(send),
        (error: unknown) => {
          inFlight.delete(send)
          failure ??= { error }
        },
      )
      inFlight.add(send)
    },
    async settled(): Promise<void> {
      await Promise.all(inFlight)
      check()
    },
    async drained(): Promise<void> {
      await Promise.all(inFlight)
    },
  }
}
