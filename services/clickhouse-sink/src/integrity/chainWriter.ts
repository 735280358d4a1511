import { createHash } from 'node:crypto'
import { chainEntryRow, checkpointRow } from '@audit-pipeline/clickhouse-schema'
import {
  appendToChain,
  buildCheckpoint,
  type SignedCheckpoint,
  type SigningKey,
} from '@audit-pipeline/integrity'
import { chainKeyOf, type ChainKey, type ChainState } from './chainState.js'
import type { ChainStore, Line } from './chainStore.js'
import type { EventIdentity } from './eventIdentity.js'

/** When a chain's entries get a signed checkpoint: whichever comes first. */
export type CheckpointPolicy = {
  /** Entries one checkpoint covers at most. */
  maxEntries: number
  /** How long an entry may wait for its checkpoint, ms (also when no more events come). */
  intervalMs: number
}

export type ChainWriterOptions = {
  /** Retries while ClickHouse is unavailable (the caller wraps it): each call ends written, or throws for good. */
  store: ChainStore
  /** Undefined: entries are chained, but no checkpoint is made (SINK_CHECKPOINTS=off). */
  signingKey: SigningKey | undefined
  policy: CheckpointPolicy
  /** Copies checkpoints to the checkpoints topic, after ClickHouse has them. */
  publish(checkpoints: readonly SignedCheckpoint[]): Promise<void>
  now(): number
}

/** An event stored in `audit_events`, on its way into its chain. */
export type StoredEvent = { readonly identity: EventIdentity; readonly chain: string }

export type ChainWriter = {
  /** Appends the events, in order, to their chains and writes the entries; then any checkpoint due. */
  record(events: readonly StoredEvent[]): Promise<{ entries: number; checkpoints: number }>
  /** Writes the checkpoints due by time (chains no event came to lately); `all`: every chain with uncovered entries (on stop). */
  checkpoint(options?: { all?: boolean }): Promise<number>
}

/**
 * One generation's writer of the hash chains: the sink's steps write one batch at a time and this
 * queues its own calls, so a chain has one writer. A chain's state is read from ClickHouse at its
 * first event in the generation; afterwards it is what this writer wrote. Entries are written
 * after their events' rows, in one insert (one part, all or nothing), so a crash between the two
 * leaves events without entries, which the records read again after the restart complete: their
 * rows are stored, the look-up finds no entry, and they are chained then.
 */
export function createChainWriter(options: ChainWriterOptions): ChainWriter {
  const { store, policy } = options
  const now = () => options.now()
  const states = new Map<ChainKey, ChainState>()
  let queue: Promise<unknown> = Promise.resolve()
  const exclusive = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work, work)
    queue = run.catch(() => undefined)
    return run
  }

  const ensureLoaded = async (events: readonly StoredEvent[]) => {
    const missing = new Map<ChainKey, { tenant: string; chain: string }>()
    for (const { identity, chain } of events) {
      const key = chainKeyOf(identity.tenant, chain)
      if (!states.has(key)) missing.set(key, { tenant: identity.tenant, chain })
    }
    if (missing.size === 0) return
    for (const [key, state] of await store.load([...missing.values()])) states.set(key, state)
  }

  const writeCheckpoints = async (due: (state: ChainState, nowMs: number) => boolean): Promise<number> => {
    const key = options.signingKey
    if (!key) return 0
    const nowMs = now()
    const made: { state: ChainState; checkpoint: SignedCheckpoint }[] = []
    for (const state of states.values()) {
      if (state.uncovered.length === 0 || !due(state, nowMs)) continue
      const checkpoint = buildCheckpoint({
        tenant: state.head.tenant,
        chain: state.head.chain,
        previous: state.lastCheckpoint,
        entries: state.uncovered,
        createdAtMs: nowMs,
        key,
      })
      made.push({ state, checkpoint })
    }
    if (made.length === 0) return 0
    const lines = made.map(({ checkpoint }) => ({ line: `${JSON.stringify(checkpointRow(checkpoint))}\n` }))
    await store.insertCheckpoints(lines, tokenOf('audit-checkpoints', lines))
    // Stored: they are the chains' checkpoints now, whatever the copy to Kafka does (a second
    // checkpoint signed over the same entries would read as a fork). A copy that fails is not
    // retried: verify reads a checkpoint ClickHouse has and the topic lacks as not copied, never
    // as rolled back.
    for (const { state, checkpoint } of made) {
      state.lastCheckpoint = checkpoint
      state.uncovered = []
      state.oldestUncoveredAtMs = undefined
    }
    await options.publish(made.map(({ checkpoint }) => checkpoint))
    return made.length
  }

  const dueByTime = (state: ChainState, nowMs: number) =>
    state.oldestUncoveredAtMs !== undefined && nowMs - state.oldestUncoveredAtMs >= policy.intervalMs
  const dueBySizeOrTime = (state: ChainState, nowMs: number) =>
    state.uncovered.length >= policy.maxEntries || dueByTime(state, nowMs)

  return {
    record(events) {
      return exclusive(async () => {
        if (events.length === 0) return { entries: 0, checkpoints: await writeCheckpoints(dueByTime) }
        await ensureLoaded(events)
        const storedAtMs = now()
        // Computed on copies: the states change only once ClickHouse has the entries.
        const heads = new Map<ChainKey, ChainState['head']>()
        const appended = new Map<ChainKey, { seq: number; hash: string }[]>()
        const lines: Line[] = []
        for (const { identity, chain } of events) {
          const key = chainKeyOf(identity.tenant, chain)
          const head = heads.get(key) ?? states.get(key)!.head
          const next = appendToChain(head, {
            event_id: identity.eventId,
            content_digest: identity.digest,
            occurred_at: identity.occurredAtMs,
            category: identity.category,
          })
          heads.set(key, next.head)
          let list = appended.get(key)
          if (!list) appended.set(key, (list = []))
          list.push({ seq: next.entry.seq, hash: next.hash })
          lines.push({ line: `${JSON.stringify(chainEntryRow(next.entry, next.hash, storedAtMs))}\n` })
        }
        await store.insertEntries(lines, tokenOf('audit-chain', lines))
        for (const [key, head] of heads) {
          const state = states.get(key)!
          state.head = head
          // Without a key nothing is checkpointed: the leaves need not be kept.
          if (!options.signingKey) continue
          for (const leaf of appended.get(key) ?? []) state.uncovered.push(leaf)
          state.oldestUncoveredAtMs ??= storedAtMs
        }
        // Past maxEntries, one checkpoint per maxEntries: a batch can be bigger than one.
        let checkpoints = 0
        for (;;) {
          const oversized = [...states.values()].filter((s) => s.uncovered.length > policy.maxEntries)
          if (oversized.length === 0) break
          for (const state of oversized) {
            const rest = state.uncovered.splice(policy.maxEntries)
            checkpoints += await writeCheckpoints((s) => s === state)
            state.uncovered = rest
            state.oldestUncoveredAtMs = rest.length > 0 ? storedAtMs : undefined
          }
        }
        checkpoints += await writeCheckpoints(dueBySizeOrTime)
        return { entries: lines.length, checkpoints }
      })
    },
    checkpoint(checkpointOptions) {
      return exclusive(() => writeCheckpoints(checkpointOptions?.all ? () => true : dueByTime))
    },
  }
}

/** An insert's deduplication token: a retried insert of the same lines lands once. */
function tokenOf(prefix: string, lines: readonly Line[]): string {
  const hash = createHash('sha256')
  for (const { line } of lines) hash.update(line)
  return `${prefix}-${hash.digest('hex')}`
}
