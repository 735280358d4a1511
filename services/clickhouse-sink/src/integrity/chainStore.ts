import {
  checkpointOfStoredRow,
  integrityTables,
  storedCheckpointSelect,
  type StoredCheckpointRow,
} from '@audit-pipeline/clickhouse-schema'
import { genesisHead } from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'
import { chainKeyOf, type ChainKey, type ChainState } from './chainState.js'

/** One line of JSONEachRow, newline included. */
export type Line = { readonly line: string }

/** What the chain writer reads and writes in ClickHouse. Each call is one statement; the caller retries. */
export type ChainStore = {
  /** Where each of these chains stands in ClickHouse: its head, last checkpoint and the entries after it. */
  load(chains: readonly { tenant: string; chain: string }[]): Promise<Map<ChainKey, ChainState>>
  insertEntries(lines: readonly Line[], deduplicationToken: string): Promise<void>
  insertCheckpoints(lines: readonly Line[], deduplicationToken: string): Promise<void>
}

type HeadRow = { tenant: string; chain: string; last_seq: string; last_hash: string }
type EntryRow = { entry_seq: string; entry_hash: string; stored_ms: string }

/**
 * The chain store over `storage`'s database. A chain's state is read once per generation of the
 * steps (at its first event after a start, a restart or a rebalance): what the steps wrote before
 * is then known, and what another sink wrote for the same stream before a rebalance is read here.
 */
export function clickHouseChainStore(
  storage: Storage,
  insert: (table: string) => ChainStore['insertEntries'],
): ChainStore {
  const database = storage.describe().database
  const table = (name: string) => `\`${database}\`.\`${name}\``
  const chainTable = table(integrityTables.chain)
  const checkpointTable = table(integrityTables.checkpoints)
  const rows = async <T>(query: string, params: Record<string, unknown>): Promise<T[]> => {
    const result = await storage.client.query({ query, query_params: params, format: 'JSONEachRow' })
    return result.json<T>()
  }

  return {
    async load(chains) {
      const tenants = [...new Set(chains.map((c) => c.tenant))]
      const names = [...new Set(chains.map((c) => c.chain))]
      const wanted = new Set(chains.map((c) => chainKeyOf(c.tenant, c.chain)))
      const heads = await rows<HeadRow>(
        `SELECT tenant, chain, toString(max(seq)) AS last_seq, argMax(entry_hash, seq) AS last_hash FROM ${chainTable}
         WHERE tenant IN {tenants:Array(String)} AND chain IN {chains:Array(String)} GROUP BY tenant, chain`,
        { tenants, chains: names },
      )
      const checkpoints = await rows<StoredCheckpointRow>(
        `SELECT ${storedCheckpointSelect} FROM ${checkpointTable}
         WHERE tenant IN {tenants:Array(String)} AND chain IN {chains:Array(String)}
         ORDER BY tenant, chain, checkpoint_seq DESC LIMIT 1 BY tenant, chain`,
        { tenants, chains: names },
      )
      const states = new Map<ChainKey, ChainState>()
      for (const { tenant, chain } of chains) {
        states.set(chainKeyOf(tenant, chain), {
          head: genesisHead(tenant, chain),
          uncovered: [],
          oldestUncoveredAtMs: undefined,
          lastCheckpoint: null,
        })
      }
      for (const row of heads) {
        const state = states.get(chainKeyOf(row.tenant, row.chain))
        if (state) state.head = { ...state.head, nextSeq: Number(row.last_seq) + 1, lastHash: row.last_hash }
      }
      for (const row of checkpoints) {
        const state = states.get(chainKeyOf(row.tenant, row.chain))
        if (state) state.lastCheckpoint = checkpointOfStoredRow(row)
      }
      // The entries after the last checkpoint: the next checkpoint covers them.
      for (const [key, state] of states) {
        if (!wanted.has(key) || state.head.nextSeq === 0) continue
        const fromSeq = state.lastCheckpoint ? state.lastCheckpoint.last_seq + 1 : 0
        if (fromSeq >= state.head.nextSeq) continue
        const entries = await rows<EntryRow>(
          `SELECT DISTINCT seq, toString(seq) AS entry_seq, entry_hash,
                  toString(toUnixTimestamp64Milli(stored_at)) AS stored_ms
           FROM ${chainTable}
           WHERE tenant = {tenant:String} AND chain = {chain:String} AND seq >= {fromSeq:UInt64}
           ORDER BY seq`,
          { tenant: state.head.tenant, chain: state.head.chain, fromSeq },
        )
        state.uncovered = entries.map((e) => ({ seq: Number(e.entry_seq), hash: e.entry_hash }))
        state.oldestUncoveredAtMs = entries.length > 0 ? Number(entries[0]?.stored_ms) : undefined
      }
      return states
    },
    insertEntries: insert(chainTable),
    insertCheckpoints: insert(checkpointTable),
  }
}
