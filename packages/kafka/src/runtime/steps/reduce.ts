import { mergeCommittable, type PartitionOffset, type StreamMessage } from '../kafkaRecord.js'
import type { ProcessingStep } from '../processingStep.js'

export type ReduceOptions<T, A> = {
  /** A new, empty accumulator. */
  initial(): A
  /** Adds one payload to the accumulator (may mutate and return it). */
  accumulate(accumulator: A, payload: T): A
  /** Closes the batch when it holds this many messages. */
  maxMessages: number
  /** Closes the batch before a message would take it past this many bytes (alone it may). */
  maxBytes?: number
  sizeOf?(payload: T): number
  /** Closes a non-empty batch this long after its first message, on poll. */
  maxAgeMs: number
  /** Closes a non-empty batch on every poll (after each fetch): batches no larger than a fetch. */
  closeOnPoll?: boolean
  now?: () => number
}

/**
 * Folds messages into batches, closed by count, bytes or age, and hands each batch on with the
 * offsets of everything in it (arroyo's Reduce). Submitting waits while the next step takes the
 * batch, so a slow writer slows reading instead of filling memory.
 */
export function reduce<T, A>(options: ReduceOptions<T, A>, next: ProcessingStep<A>): ProcessingStep<T> {
  const now = options.now ?? (() => performance.now())
  let accumulator = options.initial()
  let messages = 0
  let bytes = 0
  let startedAt = 0
  let committable = new Map<string, PartitionOffset>()

  const close = async () => {
    if (messages === 0) return
    const batch = { payload: accumulator, committable }
    accumulator = options.initial()
    messages = 0
    bytes = 0
    committable = new Map()
    await next.submit(batch)
  }

  return {
    async submit(message: StreamMessage<T>) {
      const size = options.sizeOf?.(message.payload) ?? 0
      if (messages > 0 && options.maxBytes !== undefined && bytes + size > options.maxBytes) await close()
      if (messages === 0) startedAt = now()
      accumulator = options.accumulate(accumulator, message.payload)
      mergeCommittable(committable, message.committable)
      messages++
      bytes += size
      if (messages >= options.maxMessages || (options.maxBytes !== undefined && bytes >= options.maxBytes))
        await close()
    },
    async poll() {
      if (messages > 0 && (options.closeOnPoll || now() - startedAt >= options.maxAgeMs)) await close()
      await next.poll()
    },
    async join() {
      await close()
      await next.join()
    },
    async close() {
      accumulator = options.initial()
      messages = 0
      bytes = 0
      committable = new Map()
      await next.close()
    },
  }
}
