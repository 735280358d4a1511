/**
 * One tenant's stored events, by id: the content digest recomputed from each stored row, and
 * whether a chain entry has claimed it. This is what verification holds in memory, and its bound:
 * about 170 bytes per stored event of the tenant being verified (the id, the digest in hex, the
 * map's own entry), so 10 million events take about 1.7 GB of heap.
 *
 * Several identical rows of one event (ReplacingMergeTree before its merges, a retried insert) are
 * one event; rows of one id with different digests are kept as all their digests, since the
 * copy that differs from what the entry recorded is itself a change. V8's Map holds at most 2^24
 * entries, so the index is split by the id's first character (event ids are UUIDs in hex).
 */
export class DigestIndex {
  // Value: the digest (64 hex digits) while unclaimed; claimed, prefixed with '#'; several
  // different digests joined by ','. Strings only: an object per event would double the memory.
  // Split by the id's first hex digit (its char code's low four bits), so no Map nears 2^24.
  readonly #shards = Array.from({ length: 16 }, () => new Map<string, string>())
  #events = 0

  /** Stored events (distinct ids). */
  get size(): number {
    return this.#events
  }

  add(eventId: string, digest: string): void {
    const shard = this.#shardOf(eventId)
    const held = shard.get(eventId)
    if (held === undefined) {
      shard.set(eventId, digest)
      this.#events++
      return
    }
    const claimed = isClaimed(held)
    const digests = (claimed ? held.slice(1) : held).split(',')
    if (digests.includes(digest)) return
    shard.set(eventId, `${claimed ? '#' : ''}${[...digests, digest].join(',')}`)
  }

  /**
   * The digests stored for the event (undefined when no row has that id), marking it claimed by a
   * chain entry. An event can be claimed more than once (a second entry for it is the chain's finding).
   */
  claim(eventId: string): readonly string[] | undefined {
    const shard = this.#shardOf(eventId)
    const held = shard.get(eventId)
    if (held === undefined) return undefined
    if (isClaimed(held)) return held.slice(1).split(',')
    shard.set(eventId, `#${held}`)
    return held.length === digestLength ? [held] : held.split(',')
  }

  /** Claims without looking: the event's entry exists, outside the range being verified. */
  release(eventId: string): void {
    const shard = this.#shardOf(eventId)
    const held = shard.get(eventId)
    if (held !== undefined && !isClaimed(held)) shard.set(eventId, `#${held}`)
  }

  /** Events no entry has claimed, with their digests. */
  *unclaimed(): Generator<[eventId: string, digests: readonly string[]]> {
    for (const shard of this.#shards) {
      for (const [eventId, held] of shard) if (!isClaimed(held)) yield [eventId, held.split(',')]
    }
  }

  #shardOf(eventId: string): Map<string, string> {
    return this.#shards[eventId.charCodeAt(0) & 15] as Map<string, string>
  }
}

const digestLength = 64
const claimedMark = '#'.charCodeAt(0)
const isClaimed = (held: string) => held.charCodeAt(0) === claimedMark
