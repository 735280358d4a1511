import type { Batch, Message, TopicMessages } from 'kafkajs'
import { CodecError } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { buildDeadLetter } from '@audit-pipeline/dead-letter'
import { retryWithBackoff, type BackoffPolicy, type Logger } from '@audit-pipeline/service-runtime'
import { planRecord, type RecordPlan } from '../pipeline/planRecord.js'
import { readRecord, type RecordReader, type RecordReading } from '../pipeline/readRecord.js'
import type { RouteTable } from '../routing/routeTable.js'
import type { DedupWindow } from './dedupWindow.js'
import { textHeaders } from './kafkaHeaders.js'
import { createPendingFlush, messageBytes, outputBytes, type PendingFlush } from './pendingFlush.js'

/** What processing one fetched batch needs; the Kafka calls are passed in so the order of sends and commits is explicit. */
export type BatchContext = {
  reader: RecordReader
  /** The routes in force; read per message, so a reload applies from the next message on. */
  routes(): RouteTable
  /** Avro in the Confluent wire format, the current schema. */
  encode(event: AuditEvent): Buffer
  dedup: DedupWindow
  deadLetterTopic: string
  maxEventBytes: number
  flushMaxBytes: number
  /** Sends with acks=all; resolves once every message is acknowledged. */
  send(topicMessages: TopicMessages[]): Promise<void>
  /** Commits `offset` (the next offset to read) for the batch's partition. */
  commit(topic: string, partition: number, offset: string): Promise<void>
  /** Aborted on shutdown: stops waiting for the registry. */
  stopping: AbortSignal
  registryBackoff: BackoffPolicy
  onFlushed(flush: PendingFlush, topic: string, partition: number, seconds: number): void
  onRegistryRetry(error: unknown, attempt: number, delayMs: number): void
  log: Logger
  now(): Date
}

/** The slice of kafkajs's eachBatch payload used here. */
export type BatchControl = {
  batch: Pick<Batch, 'topic' | 'partition' | 'messages' | 'highWatermark'>
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
}

/**
 * One fetched batch of one partition, in order: read, normalize, route and encode each message,
 * sending the pending outputs whenever they reach `flushMaxBytes` and at the end. After each send
 * is acknowledged (acks=all), and only then, the offset after its last message is committed and
 * its event ids remembered for dedup. So a crash at any point loses nothing: whatever was not
 * committed is read again and sent again, as byte-identical copies.
 *
 * A message whose writer schema cannot be fetched (registry down) holds the partition: what came
 * before it is sent and committed, then it is retried with backoff until the registry answers or
 * the service stops; it is never dead-lettered for an outage. Stopping or losing the partition
 * ends the batch after the last flush; unresolved messages are fetched again by whoever owns the
 * partition next.
 *
 * Returns the offset after the last message committed, or undefined when nothing was.
 */
export async function processBatch(
  control: BatchControl,
  context: BatchContext,
): Promise<string | undefined> {
  const { batch } = control
  const { topic, partition } = batch
  let pending = createPendingFlush()
  let committed: string | undefined

  const flush = async () => {
    if (pending.records === 0) return
    const sending = pending
    pending = createPendingFlush()
    const started = performance.now()
    const topicMessages = sending.topicMessages(context.deadLetterTopic)
    if (topicMessages.length > 0) await context.send(topicMessages)
    const next = (BigInt(sending.lastOffset ?? '0') + 1n).toString()
    await context.commit(topic, partition, next)
    committed = next
    control.resolveOffset(sending.lastOffset ?? '0')
    context.dedup.remember(sending.eventIds)
    context.onFlushed(sending, topic, partition, (performance.now() - started) / 1000)
    await control.heartbeat()
  }

  for (const [index, message] of batch.messages.entries()) {
    // isStale() walks kafkajs's assignment: asked every 64 messages, a revoked partition costs at
    // most 64 messages sent twice (as exact copies), never one lost.
    if (!control.isRunning() || (index % 64 === 0 && control.isStale())) break
    const record = {
      value: message.value,
      headers: textHeaders(message.headers),
      timestampMs: kafkaTimestampMs(message.timestamp, () => context.now()),
    }
    let reading: RecordReading
    try {
      reading = await readRecord(record, context.reader)
    } catch (error) {
      if (!isRegistryOutage(error)) {
        reading = failedRecord(error, message.offset, topic, partition, context)
      } else {
        await flush()
        // Retry while this instance still owns the partition and is not stopping.
        const holding = () => control.isRunning() && !control.isStale() && !context.stopping.aborted
        try {
          reading = await retryWithBackoff(() => readRecord(record, context.reader), {
            isRetriable: (retryError) => isRegistryOutage(retryError) && holding(),
            policy: context.registryBackoff,
            signal: context.stopping,
            onRetry: (retryError, attempt, delayMs) => {
              context.onRegistryRetry(retryError, attempt, delayMs)
              // A failed heartbeat means a rebalance is under way; isStale() reports it next round.
              control.heartbeat().catch((heartbeatError: unknown) => {
                context.log.debug({ err: heartbeatError, topic, partition }, 'heartbeat failed while holding')
              })
            },
          })
        } catch (retryError) {
          // Stopping, or the partition went elsewhere, while the registry is down: leave the
          // message unresolved for whoever reads the partition next. (An abort before the first
          // retry throws the signal's reason, not the outage.)
          if (!holding()) break
          if (isRegistryOutage(retryError)) throw retryError
          reading = failedRecord(retryError, message.offset, topic, partition, context)
        }
      }
    }
    let plan: RecordPlan
    try {
      plan = planRecord(reading, {
        routes: context.routes(),
        encode: (event) => context.encode(event),
        maxEventBytes: context.maxEventBytes,
        isDuplicate: (eventId) => context.dedup.has(eventId) || pending.hasEvent(eventId),
      })
    } catch (error) {
      plan = failedRecord(error, message.offset, topic, partition, context)
    }
    const deadLetter =
      plan.kind === 'dead-letter' ? deadLetterFor(message, topic, partition, plan, context) : undefined
    // Flush first when this message would push the request past the limit: a produce request
    // then holds at most flushMaxBytes, or one large message alone, within the broker's limit.
    if (pending.records > 0 && pending.bytes + planBytes(plan, deadLetter) > context.flushMaxBytes)
      await flush()
    pending.add(message.offset, record.timestampMs, plan, deadLetter)
  }
  await flush()
  return committed
}

/**
 * A message's Kafka timestamp, ms. Kafka reports a missing one (message format v0, before Kafka
 * 0.10) as -1; then the clock stands in, and a re-read after a crash may give another
 * `recorded_at` for events that lack one.
 */
function kafkaTimestampMs(timestamp: string, now: () => Date): number {
  const ms = Number(timestamp)
  return Number.isFinite(ms) && ms >= 0 ? ms : now().getTime()
}

/**
 * A message whose reading or planning threw (a bug, or an input no rule foresaw: a stack
 * overflow, a failed serialisation) is dead-lettered as RECORD_FAILED with the error's name, and
 * logged for an operator; the partition goes on. Kafka would otherwise re-deliver the same
 * message to every restart, and nothing behind it would ever be read.
 */
function failedRecord(
  error: unknown,
  offset: string,
  topic: string,
  partition: number,
  context: BatchContext,
): Extract<RecordPlan, { kind: 'dead-letter' }> {
  const name = error instanceof Error ? error.name : typeof error
  const text = error instanceof Error ? error.message : String(error)
  // A dead letter's reason is a code: RangeError becomes RANGE_ERROR.
  const reason = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')
    .slice(0, 64)
  context.log.error(
    { err: error, topic, partition, offset },
    'reading a message failed: dead-lettered as RECORD_FAILED so the partition goes on',
  )
  return {
    kind: 'dead-letter',
    cause: {
      errorClass: 'RECORD_FAILED',
      reason: reason || 'UNKNOWN',
      message: `reading the message failed: ${name}: ${text}`.slice(0, 1000),
    },
  }
}

export function isRegistryOutage(error: unknown): boolean {
  return error instanceof CodecError && error.code === 'REGISTRY_UNAVAILABLE' && error.retriable
}

function deadLetterFor(
  message: Batch['messages'][number],
  topic: string,
  partition: number,
  plan: Extract<RecordPlan, { kind: 'dead-letter' }>,
  context: BatchContext,
): Message {
  return buildDeadLetter({
    source: {
      topic,
      partition,
      offset: message.offset,
      timestamp: message.timestamp,
      key: message.key,
      value: message.value,
      headers: message.headers ?? {},
    },
    error: {
      errorClass: plan.cause.errorClass,
      ...(plan.cause.reason !== undefined && { reason: plan.cause.reason }),
      message: plan.cause.message,
    },
    service: 'normalizer',
    now: context.now(),
  })
}

function planBytes(plan: RecordPlan, deadLetter: Message | undefined): number {
  if (deadLetter) return messageBytes(deadLetter)
  if (plan.kind !== 'outputs') return 0
  let bytes = 0
  for (const output of plan.outputs) bytes += outputBytes(output)
  return bytes
}
