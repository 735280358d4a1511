import type { Message, TopicMessages } from 'kafkajs'
import {
  sealDeadLetter,
  withSeal,
  type DeadLetterOwner,
  type DeadLetterSeal,
} from '@audit-pipeline/dead-letter'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  committableOf,
  isOutage,
  mapPayload,
  mergeCommittable,
  recordDeadLetter,
  recordFailureOf,
  reduce,
  runInFlight,
  runTask,
  StepInterrupted,
  type KafkaRecord,
  type PartitionOffset,
  type Processed,
  type ProcessingStep,
  type RecordFailure,
  type RuntimeContext,
  registryOutage as schemaRegistry,
} from '@audit-pipeline/kafka'
import type { Logger } from '@audit-pipeline/service-runtime'
import {
  keyStoreOutage,
  KeyStoreUnavailableError,
  withRetriableFailures,
} from '../redaction/keyStoreOutage.js'
import { policyEncrypts } from '../redaction/redactionPolicy.js'
import { deadLetterClasses, type DeadLetterCause } from '../pipeline/deadLetterClasses.js'
import { ownerOfRecord, ownersOfMessage } from '../pipeline/deadLetterOwner.js'
import { planRecord, type RecordPlan } from '../pipeline/planRecord.js'
import { readRecord, type InputRecord, type RecordReader } from '../pipeline/readRecord.js'
import type { RouteTable } from '../routing/routeTable.js'
import type { ContentDigests } from '../digests/contentDigests.js'
import type { DedupWindow, EventKey } from './dedupWindow.js'
import { textHeaders } from './kafkaHeaders.js'
import { createPendingFlush, messageBytes, outputBytes, type PendingFlush } from './pendingFlush.js'

export type NormalizerStepsOptions = {
  reader: RecordReader
  /** The routes in force; read per message, so a reload applies from the next message on. */
  routes(): RouteTable
  /** Avro in the Confluent wire format, the current schema. */
  encode(event: AuditEvent): Buffer
  /** The content digests of encoded events, for the dedup window (digests/contentDigests.ts). */
  digests: Pick<ContentDigests, 'of' | 'ofAll'>
  /** Survives restarts of the steps: only acknowledged ids are remembered in it. */
  dedup: DedupWindow
  deadLetterTopic: string
  maxEventBytes: number
  /** A flush is sent once its outputs reach this many bytes, and after each fetch. */
  flushMaxBytes: number
  /**
   * Flushes sent at once. Flushes of different input partitions are sent side by side; those of
   * one partition one after the other, each once the one before it is acknowledged.
   */
  maxFlushesInFlight: number
  /** Sends with acks=all; resolves once every message is acknowledged. */
  send(topicMessages: TopicMessages[]): Promise<void>
  onFlushed(flush: Flush, seconds: number): void
  log: Logger
  now(): Date
}

/** What one flush took: its pending outputs, how many records it read per input topic, and what it commits. */
export type Flush = {
  pending: PendingFlush
  consumedByTopic: Map<string, number>
  /** Per input partition (partitionId), the offset after its last record in the flush. */
  committable: Map<string, PartitionOffset>
}

/** A message's plan; a dead letter's, with its value and error message sealed when the message is attributable. */
type Planned = { timestampMs: number; plan: RecordPlan; seal?: DeadLetterSeal }

/**
 * Runs one piece of a message's work that may meet an outage (`what`: the schema registry or the
 * field key store): once, or waiting the outage out.
 */
type Attempt = <T>(what: string, work: () => Promise<T>) => Promise<T>

/** A flush on its way: acknowledged once `sent` resolves, committed once `committed` does. */
type InFlight = { sent: Promise<void>; committed: Promise<void> }

/** One message ready for a flush: its plan, its dead letter when it has one, and what it weighs in a request. */
type Item = {
  record: KafkaRecord
  timestampMs: number
  plan: RecordPlan
  deadLetter?: Message
  bytes: number
}

/**
 * The normalizer's steps: read, normalize, route and encode each message (isolated: whatever one
 * message does becomes its dead letter), gather the outputs into a flush closed by bytes or at
 * the end of each fetch, send it with acks=all while the next one fills, and only then remember
 * its event ids, report it and commit the offsets it covers: each partition's flushes in the
 * order read, one partition never waiting for another. A crash at any point loses nothing: what
 * was not committed is read and sent again, as byte-identical copies.
 *
 * While the registry or the field key store is unavailable the message that needs it is held (the
 * runtime waits the outage out, logging each retry, counting the registry's); what came before it
 * is sent and committed first. A message is never dead-lettered for an outage.
 *
 * A dead letter of a message attributable to a tenant whose redaction policy encrypts
 * (deadLetterOwner.ts) is sealed under the data key of its tenant and data subject: its value and
 * error message (packages/dead-letter's sealDeadLetter), so that erasing the subject reaches it
 * too. Sealing that fails is an outage of the key store like any other: the message is held, never
 * dead-lettered in plaintext.
 */
export function normalizerSteps(
  options: NormalizerStepsOptions,
  context: RuntimeContext,
): ProcessingStep<KafkaRecord> {
  const { reader, dedup } = options
  /**
   * Events taken into a flush whose send is not acknowledged yet (the one filling and those in
   * flight), encoded: a repeat of one is a duplicate (or a conflict) too, judged by the digest of
   * this encoded original. Dropping it loses nothing: if that send fails, its partition is not
   * committed past the original, which is read and sent again after the restart.
   */
  const unacknowledged = new Map<EventKey, Buffer>()
  const digestSent = (key: EventKey): string | undefined => {
    const remembered = dedup.digestOf(key)
    if (remembered !== undefined) return remembered
    const value = unacknowledged.get(key)
    return value === undefined ? undefined : options.digests.of(value)
  }
  /**
   * Per input partition, its latest flush not yet committed: the next flush of the partition is
   * sent once that one is acknowledged, and committed once that one is. A failed one stays, so
   * that nothing of its partition is sent or committed after it.
   */
  const latest = new Map<string, InFlight>()
  /** The outage the message being read ran into, for `submit` to tell it from any other error. */
  let outage: unknown
  /** What the held message waits for: the schema registry or the field key store (its logs and readiness). */
  let waitingFor = schemaRegistry
  /** The key store dead letters are sealed with: only when some tenant encrypts. */
  const sealingKeys =
    reader.fieldKeys !== undefined && policyEncrypts(reader.redaction)
      ? withRetriableFailures(reader.fieldKeys)
      : undefined

  const planWith =
    (attempt: Attempt) =>
    async (record: KafkaRecord): Promise<Planned> => {
      const input: InputRecord = {
        value: record.value,
        headers: textHeaders(record.headers),
        timestampMs: kafkaTimestampMs(record.timestamp, () => options.now()),
      }
      let planned: Planned
      try {
        const reading = await attempt(waitingFor, () => readRecord(input, reader))
        const plan = planRecord(reading, {
          routes: options.routes(),
          encode: (event) => options.encode(event),
          digest: (value) => options.digests.of(value),
          maxEventBytes: options.maxEventBytes,
          digestSent,
          ...(reader.levels !== undefined && { levels: reader.levels }),
        })
        planned = { timestampMs: input.timestampMs, plan }
      } catch (error) {
        if (isOutage(error) || error instanceof StepInterrupted) throw error
        // What runTask would make of it, made here so that this dead letter is sealed as well.
        planned = failedRecord(record, recordFailureOf(error), options)
      }
      if (planned.plan.kind !== 'dead-letter' || sealingKeys === undefined) return planned
      const seal = await sealFor(record, planned.plan.cause, sealingKeys, attempt)
      return seal === undefined ? planned : { ...planned, seal }
    }

  /** The sealed parts of a message's dead letter, or undefined when the message cannot be attributed. */
  const sealFor = async (
    record: KafkaRecord,
    cause: DeadLetterCause,
    keys: NonNullable<typeof sealingKeys>,
    attempt: Attempt,
  ): Promise<DeadLetterSeal | undefined> => {
    const { value } = record
    if (value === null || value.length === 0) return undefined
    const owners = await ownersOf({ value, headers: textHeaders(record.headers) }, attempt)
    if (owners === undefined) return undefined
    const source = { topic: record.topic, partition: record.partition, offset: record.offset }
    return attempt(keyStoreOutage, async () => {
      try {
        return await sealDeadLetter({ owners, source, value, errorMessage: cause.message }, keys)
      } catch (error) {
        if (isOutage(error)) throw error
        // Not the store's own call but sealing with what it gave (a key of the wrong length): the
        // store's to fix all the same, and never a reason to write the message in plaintext.
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        throw new KeyStoreUnavailableError(`sealing a dead letter failed: ${reason}`, { cause: error })
      }
    })
  }

  /**
   * Whose data a message is: from the events its input adapter makes of it, or what its JSON
   * shows (a batch's: each event's); or from the event its Avro decodes to.
   */
  const ownersOf = async (
    message: { value: Buffer; headers: InputRecord['headers'] },
    attempt: Attempt,
  ): Promise<DeadLetterOwner[] | undefined> => {
    const { value } = message
    if (value[0] !== 0) return ownersOfMessage(message, reader.adapters, reader.redaction)
    let event: AuditEvent
    try {
      // Decoded again: the codec keeps the writer's schema it fetched the first time.
      event = await attempt(schemaRegistry, () => reader.decodeAvro(value))
    } catch (error) {
      if (isOutage(error) || error instanceof StepInterrupted) throw error
      return undefined
    }
    const owner = ownerOfRecord(event, reader.redaction)
    return owner === undefined ? undefined : [owner]
  }

  const toItem = ({ input, outcome }: Processed<KafkaRecord, Planned>): Item => {
    const planned = outcome.ok ? outcome.value : failedRecord(input, outcome.failure, options)
    const { timestampMs, plan } = planned
    if (plan.kind !== 'dead-letter') return { record: input, timestampMs, plan, bytes: planBytes(plan) }
    // Built here, once, so that the flush limit counts what is sent: the original bytes and
    // headers plus those naming the failure (its message alone may take 4 KiB).
    const built = recordDeadLetter(input, plan.cause, 'normalizer', options.now())
    const deadLetter = planned.seal === undefined ? built : withSeal(built, planned.seal)
    return { record: input, timestampMs, plan, deadLetter, bytes: messageBytes(deadLetter) }
  }

  const take = (flush: Flush, item: Item): Flush => {
    const { record, plan } = item
    flush.pending.add(record.offset, item.timestampMs, plan, item.deadLetter)
    if (plan.kind === 'outputs') for (const { key, value } of plan.sent) unacknowledged.set(key, value)
    flush.consumedByTopic.set(record.topic, (flush.consumedByTopic.get(record.topic) ?? 0) + 1)
    mergeCommittable(flush.committable, committableOf(record))
    return flush
  }

  /**
   * Sends a flush, then commits it as soon as it and the flushes of its partitions before it are
   * through. (A last step would commit it only once runInFlight hands it on, at the next submit
   * or poll, and behind every flush read before it, whatever its partition: a slow partition
   * would hold back the commits of all the others, and a crash would send all of that twice.)
   */
  const sendFlush = (flush: Flush): Promise<void> => {
    const partitions = [...flush.committable.keys()]
    const earlier = partitions.flatMap((id) => latest.get(id) ?? [])
    // Computed while the flush is sent (off this thread when a worker runs), needed only after.
    const digesting = dedup.remembers
      ? options.digests.ofAll(flush.pending.sent.map(({ value }) => value))
      : Promise.resolve([])
    // Awaited only once the send succeeds; a failed send fails the steps, not this.
    digesting.catch(() => undefined)
    const sent = (async () => {
      // A partition's flushes reach Kafka in order: sent side by side, a retried request could
      // land after the next flush's and reorder one object's events. A flush whose predecessor
      // failed is not sent at all (this rejects with its error).
      await Promise.all(earlier.map((flight) => flight.sent))
      const startedMs = performance.now()
      const topicMessages = flush.pending.topicMessages(options.deadLetterTopic)
      if (topicMessages.length > 0) await options.send(topicMessages)
      // Acknowledged: these events went out, whatever happens to the commit. Counted now, the
      // metrics agree with what the output topics hold.
      context.countDeadLetters(
        [...flush.pending.tally.deadLettered].flatMap(([c, n]) => Array<string>(n).fill(c)),
      )
      options.onFlushed(flush, (performance.now() - startedMs) / 1000)
    })()
    // Remembered once acknowledged and digested, before the commit: a restart before that commit
    // (a failed flush ahead of this one) drops them as duplicates instead of sending them again.
    // Until then they are unacknowledged ones, judged from their encoded form. The partition's next
    // flush is sent without waiting for this.
    const remembered = (async () => {
      await sent
      const digests = await digesting
      dedup.remember(flush.pending.sent.map(({ key }, i) => ({ key, digest: digests[i] as string })))
      for (const { key } of flush.pending.sent) unacknowledged.delete(key)
    })()
    const committed = (async () => {
      await remembered
      // Per partition in the order read: never past a flush that was not committed.
      await Promise.all(earlier.map((flight) => flight.committed))
      await context.commit([...flush.committable.values()])
    })()
    const flight: InFlight = { sent, committed }
    for (const id of partitions) latest.set(id, flight)
    const forget = () => {
      for (const id of partitions) if (latest.get(id) === flight) latest.delete(id)
    }
    // Only once committed: a failure (handled by runInFlight, which fails the steps) stays.
    void committed.then(forget, () => undefined)
    return committed
  }

  const flushes = reduce<Item, Flush>(
    {
      initial: emptyFlush,
      accumulate: take,
      sizeOf: (item) => item.bytes,
      // A flush holds at most flushMaxBytes, or one large message alone: within the broker's limit.
      maxBytes: options.flushMaxBytes,
      maxMessages: Number.MAX_SAFE_INTEGER,
      maxAgeMs: Number.POSITIVE_INFINITY,
      closeOnPoll: true,
    },
    runInFlight(sendFlush, { maxInFlight: options.maxFlushesInFlight }, alreadyCommitted),
  )
  const items = mapPayload(toItem, flushes)

  const readOnce = runTask(
    planWith(async (_what, work) => {
      try {
        return await work()
      } catch (error) {
        // runTask lets an outage through; anything else becomes the record's failure.
        if (isOutage(error)) outage = error
        throw error
      }
    }),
    items,
  )
  const readWhenAvailable = runTask(
    planWith((what, work) => context.whileUnavailable(what, work)),
    items,
  )

  return {
    async submit(message) {
      outage = undefined
      try {
        await readOnce.submit(message)
      } catch (error) {
        if (error !== outage || context.signal.aborted) throw error
        // The registry or the key store did not answer for this message. Send and commit what
        // came before it first, so that the outage holds this message only; then wait for it. (A
        // failure of that send is a step failure: the runtime restarts from the last commit.)
        waitingFor = error instanceof KeyStoreUnavailableError ? keyStoreOutage : schemaRegistry
        const { topic, partition, offset } = message.payload
        context.log.info(
          { topic, partition, offset },
          `${waitingFor} unavailable: sending what came before the message, then holding it`,
        )
        await flushes.join()
        await readWhenAvailable.submit(message)
      }
    },
    poll: () => items.poll(),
    join: () => items.join(),
    async close() {
      // Once every send in flight settled: what was not acknowledged is read again.
      await items.close()
      unacknowledged.clear()
    },
  }
}

const emptyFlush = (): Flush => ({
  pending: createPendingFlush(),
  consumedByTopic: new Map(),
  committable: new Map(),
})

/** The last step: sendFlush committed each flush already; runInFlight still bounds them and reports failures. */
const alreadyCommitted: ProcessingStep<void> = {
  submit: () => Promise.resolve(),
  poll: () => Promise.resolve(),
  join: () => Promise.resolve(),
  close: () => Promise.resolve(),
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

const knownClasses: ReadonlySet<string> = new Set(deadLetterClasses)

/**
 * A message whose reading or planning threw (a bug, or an input no rule foresaw: a stack
 * overflow, a failed serialisation) is dead-lettered as RECORD_FAILED with the error's name, and
 * logged for an operator; the partition goes on.
 */
function failedRecord(record: KafkaRecord, failure: RecordFailure, options: NormalizerStepsOptions): Planned {
  // A class of the normalizer's own list keeps its reason (RECORD_FAILED's is the error's name);
  // any other code becomes RECORD_FAILED's reason.
  const cause: DeadLetterCause = knownClasses.has(failure.errorClass)
    ? {
        errorClass: failure.errorClass as DeadLetterCause['errorClass'],
        ...(failure.reason !== undefined && { reason: failure.reason }),
        message: failure.message,
      }
    : { errorClass: 'RECORD_FAILED', reason: failure.errorClass, message: failure.message }
  options.log.error(
    { topic: record.topic, partition: record.partition, offset: record.offset, failure: cause },
    `reading a message failed: dead-lettered as ${cause.errorClass} so the partition goes on`,
  )
  return {
    timestampMs: kafkaTimestampMs(record.timestamp, () => options.now()),
    plan: { kind: 'dead-letter', cause },
  }
}

function planBytes(plan: RecordPlan): number {
  if (plan.kind !== 'outputs') return 0
  let bytes = 0
  for (const output of plan.outputs) bytes += outputBytes(output)
  return bytes
}
