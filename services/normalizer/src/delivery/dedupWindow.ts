import { LRUCache } from 'lru-cache'

export type DedupWindowOptions = {
  /** How long an event is remembered after it went out, ms. */
  windowMs: number
  /** At most this many events are remembered (about 200 bytes each); the oldest are forgotten first. */
  maxIds: number
  /** Milliseconds from any origin; injected in tests. Default: performance.now. */
  now?: () => number
}

/**
 * An event's identity: its event_id within its tenant. Keyed by both, so one tenant's producer
 * cannot make another tenant's event a "duplicate" by reusing its (guessable) id.
 */
export type EventKey = string

/** Event ids are UUIDs (no NUL), so the key's last NUL separates the two unambiguously. */
export function eventKeyOf(tenant: string, eventId: string): EventKey {
  return `${tenant}\u0000${eventId}`
}

/**
 * The events this normalizer sent recently, by key, with their content digests
 * (packages/integrity): a repeat with the same digest is a producer's retry or replay and is
 * dropped; one with another digest is a conflict, refused. An event is remembered only once its
 * outputs are acknowledged by Kafka: remembering earlier would drop the event for good if the send
 * failed and the batch were read again.
 *
 * It is per process and in memory, so a bound on memory, not the guarantee: the ClickHouse sink
 * checks every event against what is stored, at any age, before storing it.
 */
export type DedupWindow = {
  /** The digest the event with this key went out with, if it is remembered. */
  digestOf(key: EventKey): string | undefined
  remember(sent: Iterable<RememberedEvent>): void
  /** False for a window that remembers nothing (NORMALIZER_DEDUP_WINDOW_MS=0): no digest is worth computing for it. */
  readonly remembers: boolean
  readonly size: number
}

/** An event that went out: its key and its content digest. */
export type RememberedEvent = { key: EventKey; digest: string }

export function createDedupWindow({ windowMs, maxIds, now }: DedupWindowOptions): DedupWindow {
  const digests = new LRUCache<EventKey, string>({
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
    digestOf: (key) => digests.get(key),
    remember(sent) {
      for (const { key, digest } of sent) digests.set(key, digest)
    },
    remembers: true,
    get size() {
      return digests.size
    },
  }
}

/** For a normalizer run with NORMALIZER_DEDUP_WINDOW_MS=0: remembers nothing. */
export const noDedupWindow: DedupWindow = {
  digestOf: () => undefined,
  remember: () => undefined,
  remembers: false,
  size: 0,
}
