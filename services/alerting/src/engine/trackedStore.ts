import { stateEntryText } from './stateEntryText.js'

/** One entry written or removed since the last drain: its changelog key and JSON text (null: removed). */
export type StateChange = { key: string; value: string | null }

/**
 * A bounded map of plain JSON values that remembers which keys changed since the last drain, so
 * each transaction writes only its changes to the changelog. When full, the least recently
 * written entry is forgotten, and that counts as a change (a tombstone) too.
 *
 * A change is accepted in two steps. Written or removed, it is unsealed; `seal` turns every
 * unsealed entry into its changelog text, all of them or none, and is called after each event, so
 * an entry that cannot be written (stateEntryText.ts) is found with the event that made it, while
 * that event can still be set aside; `forgetUnsealed` then removes what that event changed, so
 * memory never holds what the changelog could not. A drain hands over sealed text only: the
 * transaction that writes it has nothing left that could fail on an entry's content.
 *
 * Recency is refreshed on writes only (every evaluated group is written back), which a Map's
 * insertion order gives for a delete and a set; lru-cache's bookkeeping on every read cost more
 * than the rest of a rule's evaluation.
 */
export class TrackedStore<V extends object> {
  private readonly entries = new Map<string, V>()
  /** Written or removed since the last seal. */
  private readonly unsealed = new Set<string>()
  /** Sealed since the last drain: each changed entry's changelog text, null once removed. */
  private readonly sealed = new Map<string, string | null>()
  evicted = 0

  constructor(
    /** Prefixes each key in the changelog: which rule (version) or store it belongs to. */
    readonly namespace: string,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    return this.entries.get(key)
  }

  /** Stores a value (also after mutating it in place, so the change is written). */
  set(key: string, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    this.unsealed.add(key)
    if (this.entries.size > this.maxEntries) this.evictOldest()
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.unsealed.add(key)
  }

  /** Loads a value read back from the changelog; not a change. */
  restore(key: string, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.maxEntries) this.evictOldest()
  }

  keys(): IterableIterator<string> {
    return this.entries.keys()
  }

  get size(): number {
    return this.entries.size
  }

  /** Whether anything changed since the last seal. */
  get hasUnsealed(): boolean {
    return this.unsealed.size > 0
  }

  /**
   * The changelog text of every entry changed since the last seal, keyed, without accepting it;
   * throws StateNotWritableError when one cannot be written, leaving everything unsealed.
   */
  prepareSeal(): [string, string | null][] {
    const texts: [string, string | null][] = []
    for (const key of this.unsealed) {
      const value = this.entries.get(key)
      texts.push([key, value === undefined ? null : stateEntryText(value, this.namespace)])
    }
    return texts
  }

  /** Accepts what `prepareSeal` returned (nothing may change in between). */
  acceptSeal(texts: readonly [string, string | null][]): void {
    for (const [key, text] of texts) this.sealed.set(key, text)
    this.unsealed.clear()
  }

  /** Seals every change since the last seal, or throws StateNotWritableError and seals none. */
  seal(): void {
    if (this.unsealed.size > 0) this.acceptSeal(this.prepareSeal())
  }

  /**
   * Forgets every entry changed since the last seal, in memory and (as a removal) in the
   * changelog: what an event that failed had changed. Returns how many.
   */
  forgetUnsealed(): number {
    const forgotten = this.unsealed.size
    for (const key of this.unsealed) {
      this.entries.delete(key)
      this.sealed.set(key, null)
    }
    this.unsealed.clear()
    return forgotten
  }

  /** Sealed changes since the last drain, removals as `null`, with namespaced keys. */
  drainChanges(): StateChange[] {
    const changes: StateChange[] = []
    for (const [key, value] of this.sealed) changes.push({ key: `${this.namespace}\u0000${key}`, value })
    this.sealed.clear()
    return changes
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next()
    if (oldest.done) return
    this.entries.delete(oldest.value)
    this.unsealed.add(oldest.value)
    this.evicted++
  }
}
