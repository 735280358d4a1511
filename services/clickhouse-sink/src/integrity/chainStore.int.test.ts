import { describe, expect, it, onTestFinished } from 'vitest'
import {
  chainEntryRow,
  defaultRetentionPolicy,
  integrityTables,
  runMigrations,
} from '@audit-pipeline/clickhouse-schema'
import { appendToChain, genesisHead } from '@audit-pipeline/integrity'
import { rowInserter } from '../delivery/insertRows.js'
import { openTestStorage } from '../../../../test/support/testStorage.js'
import { chainKeyOf } from './chainState.js'
import { clickHouseChainStore } from './chainStore.js'
import { eventKeyOf } from './eventIdentity.js'
import { readStoredDigests } from './storedDigests.js'

const ids = [1, 2, 3].map((n) => `00000000-0000-4000-8000-00000000000${n}`)

const storedAtMs = Date.parse('2026-01-01T00:00:00Z')

async function storeWithChain() {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const { storage, database } = opened
  await runMigrations(storage, { database, retention: defaultRetentionPolicy })
  const store = clickHouseChainStore(storage, (table) => rowInserter(storage, table))
  // Two entries of acme's chain t/0, stored a second apart. (Times of today: rows stored in 1970
  // would be past the tables' TTL and gone at the first merge.)
  let head = genesisHead('acme', 't/0')
  const lines: { line: string }[] = []
  for (const [index, id] of ids.slice(0, 2).entries()) {
    const next = appendToChain(head, {
      event_id: id,
      content_digest: `d${index}`,
      occurred_at: 0,
      category: 'business',
    })
    head = next.head
    lines.push({
      line: `${JSON.stringify(chainEntryRow(next.entry, next.hash, storedAtMs + 1000 * index))}\n`,
    })
  }
  await store.insertEntries(lines, 'token-1')
  return { storage, database, store, head }
}

describe('the chain store and the digest look-up, in ClickHouse', () => {
  it('finds the digests the chain holds, by tenant and event id, and nothing for other tenants or ids', async () => {
    const { storage, database } = await storeWithChain()
    const table = `\`${database}\`.\`${integrityTables.chain}\``
    const found = await readStoredDigests(storage, table, [
      { tenant: 'acme', eventId: ids[0]! },
      { tenant: 'acme', eventId: ids[1]!.toUpperCase() },
      { tenant: 'acme', eventId: ids[2]! },
      { tenant: 'beta', eventId: ids[0]! },
      { tenant: 'acme', eventId: 'not-a-uuid' },
    ])
    expect(found).toEqual(
      new Map([
        [eventKeyOf({ tenant: 'acme', eventId: ids[0]! }), 'd0'],
        [eventKeyOf({ tenant: 'acme', eventId: ids[1]! }), 'd1'],
      ]),
    )
  })

  it('loads a chain where it stands: its head and the entries no checkpoint covers yet', async () => {
    const { store, head } = await storeWithChain()
    const states = await store.load([
      { tenant: 'acme', chain: 't/0' },
      { tenant: 'acme', chain: 't/1' },
    ])
    expect(states.get(chainKeyOf('acme', 't/0'))).toMatchObject({
      head,
      uncovered: [{ seq: 0 }, { seq: 1 }],
      oldestUncoveredAtMs: storedAtMs,
      lastCheckpoint: null,
    })
    expect(states.get(chainKeyOf('acme', 't/1'))).toMatchObject({
      head: genesisHead('acme', 't/1'),
      uncovered: [],
    })
  })
})
