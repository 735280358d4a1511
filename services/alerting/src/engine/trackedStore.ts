/** One entry written or removed since the last drain: what goes to the changelog topic. */
export type StateChange = { key: string; value: unknown }

/**
 * A bounded map of plain JSON values that remembers which keys changed since the last drain, so
 * each consumed batch writes only its changes to the changelog. When full, the least recently
 * written entry is forgotten, and that counts as a change (a tombstone) too.
 *
 * Recency is refreshed on writes only (every evaluated group is written back), which a Map's
 * insertion order gives for a delete and a set; lru-cache's bookkeeping on every read cost more
 * than the rest of a rule's evaluation.
 */
export class TrackedStore<V extends object> {
  private readonly entries = new Map<string, V>()
  private readonly changed = new Set<string>()
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
    this.changed.add(key)
    if (this.entries.size > this.maxEntries) this.evictOldest()
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.changed.add(key)
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

  /** Changes since the last drain, removals as `null`, with namespaced keys. */
  drainChanges(): StateChange[] {
    const changes: StateChange[] = []
    for (const key of this.changed) {
      changes.push({ key: `${this.namespace}\u0000${key}`, value: this.entries.get(key) ?? null })
    }
    this.changed.clear()
    return changes
  }

  private evictOldest(): void {
    const oldest = this.entries.keys().next()
    if (oldest.done) return
    this.entries.delete(oldest.value)
    this.changed.add(oldest.value)
    this.evicted++
  }
}
