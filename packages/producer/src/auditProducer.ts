import { randomUUID } from 'node:crypto'
import { Partitioners, type Kafka } from 'kafkajs'
import { renewingProducer } from '@audit-pipeline/kafka'
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { pipelineTopics } from '@audit-pipeline/config'
import {
  assertEventAcceptable,
  defaultEventPolicy,
  parseEventJson,
  partitionKeyFor,
  type AuditEvent,
  type AuditEventDraft,
  type EventPolicy,
  type RedactionMethod,
} from '@audit-pipeline/event-model'
import { createBatcher, type Batcher } from './batcher.js'
import {
  createEventBuilder,
  type EventBuilder,
  type EventContext,
  type EventDefaults,
  type ObjectInput,
} from './eventBuilder.js'
import { createEventSubmission } from './eventSubmission.js'
import { ProducerError } from './producerError.js'
import { sourceProtection, type EncryptionOptions } from './sourceProtection.js'

/** The topic producers write to unless told otherwise; the normalizer reads it. */
export const defaultProducerTopic = pipelineTopics.events.name

export type AuditProducerOptions = {
  kafka: Kafka
  registry: SchemaRegistry
  /** Where the brokers and registry are, for error messages only. */
  endpoints?: { brokers?: string[]; registryUrl?: string }
  topic?: string
  defaults: Omit<EventDefaults, 'category' | 'snapshots'> &
    Partial<Pick<EventDefaults, 'category' | 'snapshots'>>
  policy?: EventPolicy
  /** How sensitive fields are hidden before events leave the process. Default: dropped. */
  redaction?: RedactionMethod
  /**
   * Seal sensitive fields instead (packages/field-encryption): encrypted under their data
   * subject's key (`subject`, default the actor), readable again by auditors until the subject is
   * erased. Not with `redaction`. A key store failure rejects the send with ProducerError
   * KEY_STORE_UNAVAILABLE; nothing of that event is sent.
   */
  encryption?: EncryptionOptions
  batching?: { maxBatchSize?: number; maxBatchBytes?: number; lingerMs?: number; maxBufferedEvents?: number }
  /**
   * `avro` (default): the registered schema, Confluent wire format. `json`: the canonical event
   * as JSON text (UTF-8), change values and snapshots staying JSON text as in Avro; the plain
   * JSON baseline of `npm run bench`.
   */
  format?: 'avro' | 'json'
  /** Register the event schema when the registry lacks it (default true; false in production). */
  autoRegisterSchema?: boolean
  maxEventBytes?: number
  now?: () => number
  newEventId?: () => string
}

/**
 * The producer SDK. Each call resolves with the event as sent once Kafka has acknowledged it
 * (acks from all in-sync replicas, idempotent producer), and rejects with EventInvalidError
 * naming the field when the event is not acceptable, or ProducerError when it could not be sent.
 */
export type AuditProducer = {
  created(object: ObjectInput, after: unknown, context: EventContext): Promise<AuditEvent>
  /** Undefined (nothing sent) when before and after are equal, unless `emitUnchanged`. */
  updated(
    object: ObjectInput,
    before: unknown,
    after: unknown,
    context: EventContext & { emitUnchanged?: boolean },
  ): Promise<AuditEvent | undefined>
  deleted(object: ObjectInput, before: unknown, context: EventContext): Promise<AuditEvent>
  read(object: ObjectInput, context: EventContext): Promise<AuditEvent>
  operation(
    name: string,
    object: ObjectInput,
    details: { before?: unknown; after?: unknown },
    context: EventContext,
  ): Promise<AuditEvent>
  /** An event in the documented JSON form (schemas/README.md). */
  generic(event: unknown): Promise<AuditEvent>
  /** Bulk operations: events built with `build`, sent together, resolved when all are in Kafka. */
  batch(events: readonly (AuditEvent | undefined)[]): Promise<AuditEvent[]>
  /** Builds events without sending them, for `batch`. */
  readonly build: EventBuilder
  /** Sends everything buffered and waits for Kafka's acknowledgement. */
  flush(): Promise<void>
  /** Flushes, then disconnects. The producer cannot be used afterwards. */
  close(): Promise<void>
  readonly schemaId: number
  readonly topic: string
}

type Outgoing = { key: string; value: Buffer; eventId: string }

export async function createAuditProducer(options: AuditProducerOptions): Promise<AuditProducer> {
  const topic = options.topic ?? defaultProducerTopic
  const now = options.now ?? Date.now
  const policy = options.policy ?? defaultEventPolicy
  // Before connecting to anything: conflicting options are the caller's mistake, not an outage.
  const protect = sourceProtection({ redaction: options.redaction, encryption: options.encryption })
  const build = createEventBuilder(
    { category: 'business', snapshots: true, ...options.defaults },
    { now, newEventId: options.newEventId ?? randomUUID },
  )

  let codec: AuditEventCodec
  try {
    codec = await createAuditEventCodec({
      registry: options.registry,
      autoRegister: options.autoRegisterSchema ?? true,
      ...(options.maxEventBytes !== undefined && { maxEventBytes: options.maxEventBytes }),
    })
  } catch (error) {
    throw new ProducerError(
      'REGISTRY_UNAVAILABLE',
      `cannot use the schema registry${at(options.endpoints?.registryUrl)}: ${(error as Error).message}`,
      true,
      { cause: error },
    )
  }

  // Replaced after a failed send: kafkajs's idempotent producer rolls its sequence numbers back
  // after a failure, even one the broker did write, so the caller's retry with the same producer
  // could be refused for ever (OUT_OF_ORDER_SEQUENCE_NUMBER) or, with other events at the same
  // numbers, taken for a duplicate and dropped. A new producer id starts the numbers afresh.
  const producer = renewingProducer(
    () =>
      options.kafka.producer({
        idempotent: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        // One request in flight per broker keeps one object's events in order through retries.
        maxInFlightRequests: 1,
        // Bounded, so an unreachable broker becomes an error for the caller instead of a hang.
        retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
      }),
    // The caller hears of a failed send through the rejected promise.
    { warn: () => undefined, debug: () => undefined },
  )
  try {
    await producer.connect()
  } catch (error) {
    throw new ProducerError(
      'BROKER_UNAVAILABLE',
      `cannot connect to Kafka${at(options.endpoints?.brokers?.join(','))}: ${(error as Error).message}`,
      true,
      { cause: error },
    )
  }

  try {
    await assertTopicExists(options.kafka, topic, options.endpoints?.brokers)
  } catch (error) {
    await producer.disconnect()
    throw error
  }

  const batcher: Batcher<Outgoing> = createBatcher({
    maxBatchSize: options.batching?.maxBatchSize ?? 1_000,
    // Kafka refuses a partition's batch over max.message.bytes (1 MiB by default); keeping the
    // whole request under it keeps every partition's share under it too.
    maxBatchBytes: options.batching?.maxBatchBytes ?? 900 * 1024,
    sizeOf: (message) => message.value.length + message.key.length + 64,
    lingerMs: options.batching?.lingerMs ?? 5,
    maxBufferedItems: options.batching?.maxBufferedEvents ?? 20_000,
    send: async (messages) => {
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: messages.map((m) => ({
            key: m.key,
            value: m.value,
            headers: { 'audit-event-id': m.eventId },
          })),
        })
      } catch (error) {
        throw new ProducerError(
          'SEND_FAILED',
          `Kafka did not accept ${messages.length} event(s) on ${topic}: ${(error as Error).message}`,
          true,
          {
            cause: error,
          },
        )
      }
    },
  })

  const encode =
    options.format === 'json'
      ? (event: AuditEvent) => Buffer.from(JSON.stringify(event))
      : (event: AuditEvent) => codec.encode(event)

  let closed = false
  const submission = createEventSubmission<Outgoing>({
    check: (event, jsonTextTrusted) => {
      if (closed) throw new ProducerError('CLOSED', 'the audit producer is closed', false)
      assertEventAcceptable(event, now(), policy, { jsonTextTrusted })
    },
    protect,
    encode: (event) => ({ key: partitionKeyFor(event), value: encode(event), eventId: event.event_id }),
    add: (outgoing) => batcher.add(outgoing),
  })
  /** `built`: made by our builder or JSON form, whose JSON text needs no second check. */
  const send = (event: AuditEvent, built = true): Promise<AuditEvent> => submission.send(event, built)
  const sendDraft = (draft: AuditEventDraft): Promise<AuditEvent> =>
    send({ ...draft, recorded_at: draft.recorded_at ?? now() })
  /** Events still being sealed are not in the batcher yet: wait for them to enter it first. */
  const flush = async () => {
    await submission.admitted()
    await batcher.flush()
  }

  // Every method is async, so a bad call rejects its promise instead of throwing at the caller.
  return {
    created: async (object, after, context) => send(build.created(object, after, context)),
    updated: async (object, before, after, context) => {
      const event = build.updated(object, before, after, context)
      return event && send(event)
    },
    deleted: async (object, before, context) => send(build.deleted(object, before, context)),
    read: async (object, context) => send(build.read(object, context)),
    operation: async (name, object, details, context) =>
      send(build.operation(name, object, details, context)),
    generic: async (input) => sendDraft(parseEventJson(input)),
    // All or nothing on validation and sealing: a bad event, or a key store failure, rejects the
    // batch before any of it is sent.
    batch: async (events) => submission.sendAll(events.filter((e): e is AuditEvent => e !== undefined)),
    build,
    flush,
    async close() {
      if (closed) return
      closed = true
      await flush()
      await producer.disconnect()
    },
    schemaId: codec.schemaId,
    topic,
  }
}

const at = (where: string | undefined) => (where ? ` at ${where}` : '')

/** Sending to a missing topic would only fail after every retry; say so at start-up instead. */
async function assertTopicExists(kafka: Kafka, topic: string, brokers: string[] | undefined): Promise<void> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    const topics = await admin.listTopics()
    if (!topics.includes(topic)) {
      throw new ProducerError(
        'TOPIC_MISSING',
        `topic ${topic} does not exist${at(brokers?.join(','))}: create it (the local stack creates the pipeline's topics) or send to another topic`,
        false,
      )
    }
  } finally {
    await admin.disconnect()
  }
}
