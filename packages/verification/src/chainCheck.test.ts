import { describe, expect, it } from 'vitest'
import { defaultRetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import {
  appendToChain,
  buildCheckpoint,
  generateSigningKeyPem,
  genesisHead,
  parseSigningKey,
  type SignedCheckpoint,
  type StoredEntry,
} from '@audit-pipeline/integrity'
import { createChainCheck } from './chainCheck.js'
import type { ChainPlan } from './chainPlan.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const nowMs = Date.parse('2026-06-01T00:00:00Z')
const dayMs = 86_400_000
const digestOf = (n: number) => n.toString(16).padStart(64, '0')

/** Four entries of events that occurred 30 days ago, one checkpoint over them. */
function chain(category: string) {
  let head = genesisHead('acme', 'audit.normalized/0')
  const entries: StoredEntry[] = []
  for (let n = 0; n < 4; n++) {
    const appended = appendToChain(head, {
      event_id: `00000000-0000-4000-8000-00000000000${n}`,
      content_digest: digestOf(n),
      occurred_at: nowMs - 30 * dayMs,
      category,
    })
    head = appended.head
    entries.push({ ...appended.entry, entry_hash: appended.hash })
  }
  const checkpoint: SignedCheckpoint = buildCheckpoint({
    tenant: 'acme',
    chain: 'audit.normalized/0',
    previous: null,
    entries: entries.map((entry) => ({ seq: entry.seq, hash: entry.entry_hash })),
    createdAtMs: nowMs - 30 * dayMs + 1000,
    key,
  })
  const plan: ChainPlan = {
    tenant: 'acme',
    chain: 'audit.normalized/0',
    start: { reason: 'chain-start', checkpointSeq: 0, seq: 0 },
    fromSeq: 0,
    toSeq: 3,
    checkpoints: [checkpoint],
    coveredAfterSeq: null,
  }
  const rows = entries.map((entry) => ({ entry, storedAtMs: nowMs - 30 * dayMs, hashChecked: false }))
  const check = () =>
    createChainCheck({
      plan,
      keys: new Map([[key.keyId, key.publicKey]]),
      retention: defaultRetentionPolicy,
      nowMs,
      checkpointGraceMs: 180_000,
    })
  return { entries, rows, check }
}

describe('createChainCheck', () => {
  it('counts an entry whose event retention removed as expired, and still verifies its links and checkpoint', () => {
    const { rows, check } = chain('debug')
    const checking = check()
    // Events 1 and 2 are gone: debug events are kept 7 days, these occurred 30 days ago.
    checking.add(rows, [[digestOf(0)], undefined, undefined, [digestOf(3)]])
    const report = checking.finish()
    expect(report.findings).toEqual([])
    expect(report).toMatchObject({ expired: 2, entries: 4, lastSeq: 3, start: { reason: 'chain-start' } })
  })

  it('reports the same absence as deletion when retention keeps the event still', () => {
    const { rows, check, entries } = chain('business')
    const checking = check()
    checking.add(rows, [[digestOf(0)], undefined, [digestOf(2)], [digestOf(3)]])
    const report = checking.finish()
    expect(report.expired).toBe(0)
    expect(report.findings.map((finding) => [finding.kind, finding.seq, finding.event_id])).toEqual([
      ['event-deleted', 1, entries[1]!.event_id],
    ])
  })

  it('reports an event stored in two versions as modified, even when one is intact', () => {
    const { rows, check } = chain('business')
    const checking = check()
    checking.add(rows, [[digestOf(0)], [digestOf(1), digestOf(99)], [digestOf(2)], [digestOf(3)]])
    expect(checking.finish().findings.map((finding) => [finding.kind, finding.seq])).toEqual([
      ['event-modified', 1],
    ])
  })

  it('reports an entry at a seq no chain reaches without failing the check', () => {
    const { rows, check } = chain('business')
    const checking = check()
    const beyond = {
      entry: { ...rows[3]!.entry, seq: 2 ** 60 },
      storedAtMs: rows[3]!.storedAtMs,
      hashChecked: false,
    }
    checking.add(
      [...rows, beyond],
      [[digestOf(0)], [digestOf(1)], [digestOf(2)], [digestOf(3)], [digestOf(3)]],
    )
    expect(checking.finish().findings.map((finding) => finding.kind)).toEqual(['entry-modified'])
  })
})
