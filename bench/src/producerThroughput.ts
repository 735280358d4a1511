import { randomBytes } from 'node:crypto'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { partitionKeyFor } from '@audit-pipeline/event-model'
import { createAuditProducer } from '@audit-pipeline/producer'

export type ThroughputRow = {
  name: string
  events: number
  seconds: number
  bytes: number
  /** The encoded records' average size (what Kafka's own producer is given for the same records). */
  recordBytes?: number
}

/** How the SDK is set up for a run: where it sends from, batches in flight, snapshots. */
export type SdkSetup = { sendFrom: 'caller' | 'worker'; inFlightBatches: number; snapshots: boolean }

/** The SDK as it was before lanes and the sending thread: the caller's thread, one batch in flight. */
export const sdkBefore: SdkSetup = { sendFrom: 'caller', inFlightBatches: 1, snapshots: true }

/** The record every benchmark event updates: a ticket with nested and array fields. */
export const ticketBefore = {
  title: 'Export to PDF fails',
  priority: 'Urgent',
  status: 'open',
  assignee: 'u-1002',
  tags: ['pdf', 'export'],
  customer: { id: 'c-881', name: 'Acme Inc.', plan: 'business' },
}

/**
 * Events per second through the producer SDK, as a service calls it: `updated(object, before,
 * after)` (field-level diff, snapshots, validation, redaction, encoding, batching, Kafka with
 * acks=-1). Calls are not awaited one by one: a window of them is in flight, as in a busy service.
 */
export async function sdkThroughput(options: {
  name: string
  brokers: string[]
  registryUrl: string
  topic: string
  events: number
  format: 'avro' | 'json'
  setup: SdkSetup
}): Promise<ThroughputRow> {
  const { setup } = options
  const config = { clientId: 'bench', brokers: options.brokers, logLevel: logLevel.NOTHING }
  const audit = await createAuditProducer({
    // A client sends from this thread; a configuration lets the SDK send from a thread of its own.
    kafka: setup.sendFrom === 'caller' ? new Kafka(config) : config,
    sendFrom: setup.sendFrom,
    registry: new SchemaRegistry({ host: options.registryUrl }),
    topic: options.topic,
    format: options.format,
    defaults: { tenant: 'bench', source: { service: 'bench', version: '1.0.0' }, snapshots: setup.snapshots },
    batching: { inFlightBatches: setup.inFlightBatches },
  })
  if (audit.sendingThread !== setup.sendFrom) {
    throw new Error(
      `the SDK sends from the ${audit.sendingThread} thread, not the ${setup.sendFrom} one asked for`,
    )
  }
  const encode = await createAuditEventCodec({ registry: new SchemaRegistry({ host: options.registryUrl }) })
  let bytes = 0
  let eventBytes = 0
  let recordBytes = 0
  const window = 20_000
  let inFlight = 0
  let room: (() => void) | undefined
  const started = process.hrtime.bigint()
  for (let i = 0; i < options.events; i++) {
    const after = {
      ...ticketBefore,
      priority: i % 2 ? 'Normal' : 'Low',
      status: 'pending',
      note: `step ${i}`,
    }
    inFlight++
    void audit
      .updated({ type: 'ticket', id: `T-${i % 10_000}` }, ticketBefore, after, {
        actor: { id: `u-${i % 500}`, roles: ['agent'], ip: '203.0.113.7' },
        correlation: { request_id: `req-${i}` },
      })
      .then((event) => {
        // The JSON size of one event stands for all: they differ by a few digits.
        if (event && eventBytes === 0) {
          eventBytes = Buffer.byteLength(JSON.stringify(event))
          recordBytes = options.format === 'json' ? eventBytes : encode.encode(event).length
        }
        bytes += eventBytes
      })
      .finally(() => {
        inFlight--
        room?.()
      })
    if (inFlight >= window) await new Promise<void>((resolve) => (room = resolve))
  }
  await audit.flush()
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await audit.close()
  return { name: options.name, events: options.events, seconds, bytes, recordBytes }
}

/**
 * The ceiling: kafkajs alone sending ready-made values of the same size with the same settings
 * (idempotent, acks=-1, same batch size), no SDK work at all.
 */
export async function rawKafkaThroughput(options: {
  brokers: string[]
  topic: string
  events: number
  valueBytes: number
}): Promise<ThroughputRow> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: options.brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  const value = randomBytes(options.valueBytes)
  const batchSize = 1_000
  const started = process.hrtime.bigint()
  for (let i = 0; i < options.events; i += batchSize) {
    const messages = Array.from({ length: Math.min(batchSize, options.events - i) }, (_, j) => ({
      key: partitionKeyFor({
        tenant: 'bench',
        object: { type: 'ticket', id: `T-${(i + j) % 10_000}`, id2: null, id3: null, label: null },
      }),
      value,
    }))
    await producer.send({ topic: options.topic, acks: -1, messages })
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  await producer.disconnect()
  return {
    name: 'kafkajs alone, pre-encoded values',
    events: options.events,
    seconds,
    bytes: options.events * options.valueBytes,
  }
}
