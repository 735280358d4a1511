import { randomUUID } from 'node:crypto'
import { Kafka, type KafkaConfig } from 'kafkajs'
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
import { callerThreadSender } from './sending/callerThreadSender.js'
import { laneOf, type Outgoing } from './sending/outgoing.js'
import type { Sender } from './sending/sender.js'
import {
  defaultSendThreadScript,
  sendThreadAvailable,
  workerThreadSender,
} from './sending/workerThreadSender.js'
import { sourceProtection, type EncryptionOptions } from './sourceProtection.js'

/** The topic producers write to unless told otherwise; the normalizer reads it. */
export const defaultProducerTopic = pipelineTopics.events.name

export type AuditProducerOptions = {
  /**
   * A kafkajs client, whose producers send from the caller's thread; or a kafkajs configuration
   * (plain data: no functions), from which the SDK makes its own clients on a thread of their
   * own, so building Kafka's requests does not take the caller's thread (`sendFrom`).
   */
  kafka: Kafka | KafkaConfig
  /** With a configuration: `worker` (default) sends from a thread of its own, `caller` from this one. */
  sendFrom?: 'worker' | 'caller'
  /** Test seam: the built sending thread's script (default: next to this module in dist). */
  sendThreadScript?: URL
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
  batching?: {
    maxBatchSize?: number
    maxBatchBytes?: number
    lingerMs?: number
    maxBufferedEvents?: number
    /**
     * Batches in flight at once (default 4), each on its own idempotent producer: one key's
     * events always go the same way, so one object's events stay in order.
     */
    inFlightBatches?: number
  }
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
  /** Where batches are sent from: this thread, or a thread of their own. */
  readonly sendingThread: 'caller' | 'worker'
}

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
  const lanes = options.batching?.inFlightBatches ?? defaultInFlightBatches
  if (!Number.isInteger(lanes) || lanes < 1 || lanes > 64) {
    throw new TypeError(`batching.inFlightBatches must be a whole number from 1 to 64, not ${lanes}`)
  }
  const sender = senderFor(options, topic, lanes)

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

  await sender.connect()

  const maxBatchSize = options.batching?.maxBatchSize ?? 1_000
  const maxBufferedEvents = options.batching?.maxBufferedEvents ?? 20_000
  // One batcher per lane, each with one batch in flight: a key's events always take the same
  // lane (laneOf), so they reach Kafka in the order they were given.
  const batchers: Batcher<Outgoing>[] = Array.from({ length: lanes }, (_, lane) =>
    createBatcher({
      maxBatchSize,
      // Kafka refuses a partition's batch over max.message.bytes (1 MiB by default); keeping the
      // whole request under it keeps every partition's share under it too.
      maxBatchBytes: options.batching?.maxBatchBytes ?? 900 * 1024,
      sizeOf: (message) => message.value.length + message.key.length + 64,
      lingerMs: options.batching?.lingerMs ?? 5,
      maxBufferedItems: Math.max(maxBatchSize, Math.ceil(maxBufferedEvents / lanes)),
      send: (messages) => sender.send(lane, messages),
    }),
  )

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
    add: (outgoing) => batchers[laneOf(outgoing.key, lanes)]!.add(outgoing),
  })
  /** `built`: made by our builder or JSON form, whose JSON text needs no second check. */
  const send = (event: AuditEvent, built = true): Promise<AuditEvent> => submission.send(event, built)
  const sendDraft = (draft: AuditEventDraft): Promise<AuditEvent> =>
    send({ ...draft, recorded_at: draft.recorded_at ?? now() })
  /** Events still being sealed are not in the batcher yet: wait for them to enter it first. */
  const flush = async () => {
    await submission.admitted()
    await Promise.all(batchers.map((batcher) => batcher.flush()))
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
      await sender.disconnect()
    },
    schemaId: codec.schemaId,
    topic,
    sendingThread: sender.thread,
  }
}

const at = (where: string | undefined) => (where ? ` at ${where}` : '')

/** Batches in flight at once unless told otherwise: each lane is a producer and a connection. */
const defaultInFlightBatches = 4

/** A client given: its thread sends. A configuration given: a thread of its own, unless told otherwise. */
function senderFor(options: AuditProducerOptions, topic: string, lanes: number): Sender {
  const brokers = options.endpoints?.brokers
  const { kafka } = options
  if (isKafkaClient(kafka)) {
    if (options.sendFrom === 'worker') {
      throw new TypeError(
        "sendFrom: 'worker' needs kafka to be a configuration (new Kafka's argument), not a client: a client cannot cross threads",
      )
    }
    return callerThreadSender({ kafka, topic, lanes, ...(brokers && { brokers }) })
  }
  const script = options.sendThreadScript ?? defaultSendThreadScript
  if (options.sendFrom === 'caller' || !sendThreadAvailable(script)) {
    // Without the built script (running from the TypeScript sources) the caller's thread sends.
    return callerThreadSender({ kafka: new Kafka(kafka), topic, lanes, ...(brokers && { brokers }) })
  }
  return workerThreadSender({ config: kafka, topic, lanes, script, ...(brokers && { brokers }) })
}

const isKafkaClient = (kafka: Kafka | KafkaConfig): kafka is Kafka =>
  typeof (kafka as Partial<Kafka>).producer === 'function'
