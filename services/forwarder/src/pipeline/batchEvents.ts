import {
  mergeCommittable,
  partitionId,
  type Committable,
  type PartitionOffset,
  type ProcessingStep,
  type StreamMessage,
} from '@audit-pipeline/kafka'
import type { BatchLimits } from '../destinations/destination.js'
import type { ForwardItem } from './prepareRecords.js'

type SendItem = Extract<ForwardItem, { kind: 'send' }>
type DeadLetterItem = Extract<ForwardItem, { kind: 'deadLetter' }>

/**
 * A run of one partition's records, in offset order: its events go out in one request, its dead
 * letters in the destination's dead-letter topic, then the offset after its last record is
 * committed (the message's committable).
 */
export type EventBatch = {
  readonly topic: string
  readonly partition: number
  /** partitionId(topic, partition): batches with the same key are delivered one after another. */
  readonly partitionKey: string
  readonly sends: SendItem[]
  readonly deadLetters: DeadLetterItem[]
  /** Records the filter did not want: nothing to do but commit them. */
  skipped: number
  /** Bytes of the formatted events in `sends`. */
  bytes: number
  /** Bytes of the records in `deadLetters`. */
  deadLetterBytes: number
}

type OpenBatch = { batch: EventBatch; committable: Map<string, PartitionOffset>; startedAtMs: number }

/**
 * Cuts each partition's items, in offset order, into batches of at most `maxEvents` events to
 * send and `maxBytes` bytes of them; an event larger than `maxBytes` goes alone. Skipped and
 * dead-lettered records ride with the batch they fall in, so each batch's commit covers every
 * offset before it; dead letters are bounded the same way (count and record bytes) so a run of
 * bad records is not held without limit. A batch goes on when full, and on a poll once
 * `maxAgeMs` passed since its first record (the runtime polls after each fetch and every 100 ms).
 *
 * One batch per partition is open at a time, so a batch never mixes partitions: each partition's
 * batches can be delivered in order while other partitions' go out beside them.
 */
export function batchEvents(
  limits: Pick<BatchLimits, 'maxEvents' | 'maxBytes' | 'maxAgeMs'>,
  next: ProcessingStep<EventBatch>,
  now: () => number = () => performance.now(),
): ProcessingStep<ForwardItem> {
  const open = new Map<string, OpenBatch>()

  const handOn = async (key: string, held: OpenBatch) => {
    open.delete(key)
    await next.submit({ payload: held.batch, committable: held.committable })
  }

  const isFull = ({ batch }: OpenBatch) =>
    batch.sends.length >= limits.maxEvents ||
    batch.bytes >= limits.maxBytes ||
    batch.deadLetters.length >= limits.maxEvents ||
    batch.deadLetterBytes >= limits.maxBytes

  return {
    async submit(message: StreamMessage<ForwardItem>) {
      const item = message.payload
      const where = sourceOf(message.committable)
      const key = partitionId(where.topic, where.partition)
      let held = open.get(key)
      if (
        held &&
        item.kind === 'send' &&
        held.batch.sends.length > 0 &&
        held.batch.bytes + item.bytes > limits.maxBytes
      ) {
        await handOn(key, held)
        held = undefined
      }
      if (!held) {
        held = { batch: emptyBatch(where, key), committable: new Map(), startedAtMs: now() }
        open.set(key, held)
      }
      add(held.batch, item)
      mergeCommittable(held.committable, message.committable)
      if (isFull(held)) await handOn(key, held)
    },
    async poll() {
      const nowMs = now()
      for (const [key, held] of [...open]) {
        if (nowMs - held.startedAtMs >= limits.maxAgeMs) await handOn(key, held)
      }
      await next.poll()
    },
    async join() {
      for (const [key, held] of [...open]) await handOn(key, held)
      await next.join()
    },
    async close() {
      open.clear()
      await next.close()
    },
  }
}

function add(batch: EventBatch, item: ForwardItem): void {
  switch (item.kind) {
    case 'send':
      batch.sends.push(item)
      batch.bytes += item.bytes
      return
    case 'skip':
      batch.skipped++
      return
    case 'deadLetter':
      batch.deadLetters.push(item)
      batch.deadLetterBytes += (item.record.value?.length ?? 0) + (item.record.key?.length ?? 0)
      return
  }
}

function emptyBatch(where: { topic: string; partition: number }, partitionKey: string): EventBatch {
  return { ...where, partitionKey, sends: [], deadLetters: [], skipped: 0, bytes: 0, deadLetterBytes: 0 }
}

/** The partition a record's message comes from: its committable names exactly one. */
function sourceOf(committable: Committable): { topic: string; partition: number } {
  const [first, ...more] = committable.values()
  if (!first || more.length > 0) {
    throw new Error(`batchEvents takes one record at a time; got a committable of ${committable.size}`)
  }
  return { topic: first.topic, partition: first.partition }
}
