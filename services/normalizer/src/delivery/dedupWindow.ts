import { LRUCache } from 'lru-cache'

export type DedupWindowOptions = {
  /** How long an event id is remembered after its event went out, ms. */
  windowMs: number
  /** At most this many ids are remembered (about 100 bytes each); the oldest are forgotten first. */
  maxIds: number
  /** Milliseconds from any origin; injected in tests. Default: performance.now. */
  now?: () => number
}

/**
 * The event ids this normalizer sent recently, to drop a producer's retries and replays. An id is
 * remembered only once its outputs are acknowledged by Kafka: remembering earlier would drop the
 * event for good if the send failed and the batch were read again.
 *
 * It is per process and in memory: after a restart, or across instances (which read different
 * partitions; a producer's retry lands on the same partition as the original since both carry the
 * same key), duplicates pass and are removed downstream by event_id.
 */
export type DedupWindow = {
  has(eventId: string): boolean
  remember(eventIds: Iterable<string>): void
  readonly size: number
}

export function createDedupWindow({ windowMs, maxIds, now }: DedupWindowOptions): DedupWindow {
  const ids = new LRUCache<string, true>({
    max: maxIds,
    ttl: windowMs,
    // A duplicate does not extend the window: it counts from the event that went out.
    updateAgeOnGet: false,
    updateAgeOnHas: false,
    // lru-cache otherwise caches the time for 1 ms behind a timer; asking the clock is cheap.
    ttlResolution: 0,
    ...(now && { perf: { now } }),
  })
  return {
    has: (eventId) => ids.has(eventId),
    remember(eventIds) {
      for (const id of eventIds) ids.set(id, true)
    },
    get size() {
      return ids.size
    },
  }
}
