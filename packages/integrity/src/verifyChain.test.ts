import { describe, expect, it } from 'vitest'
import { entryHash } from './chainEntry.js'
import { buildCheckpoint, type SignedCheckpoint } from './checkpoint.js'
import { contentDigest } from './contentDigest.js'
import { generateSigningKeyPem, parsePublicKeys, parseSigningKey, publicKeysDocument } from './signingKeys.js'
import { sampleEvent } from './testSupport/auditEvents.js'
import { chainStart, syntheticChain } from './testSupport/syntheticChain.js'
import {
  type ChainReport,
  type ChainVerifierOptions,
  createChainVerifier,
  type Finding,
  findingKinds,
  insertedEventFinding,
  rolledBackFinding,
  type StoredEntry,
  type VerifiedItem,
} from './verifyChain.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const otherKey = parseSigningKey(generateSigningKeyPem(), 'other key')
const keys = parsePublicKeys(JSON.stringify(publicKeysDocument([key.publicKey])), 'test keys')

// 30 entries, checkpoints 0 (seq 0..9), 1 (10..19) and 2 (20..29), stored a second apart.
const chain = syntheticChain({ length: 30, checkpointEvery: 10, key })
const day = 86_400_000

function verify(items: readonly VerifiedItem[], options: Partial<ChainVerifierOptions> = {}): ChainReport {
  const verifier = createChainVerifier({
    tenant: 'acme',
    chain: 'audit.normalized/3',
    checkpoints: chain.checkpoints,
    keys,
    checkpointGraceMs: 3_600_000,
    nowMs: chainStart + day,
    ...options,
  })
  for (const item of items) verifier.add(item)
  return verifier.finish()
}

const kinds = (report: ChainReport) => report.findings.map((finding) => finding.kind)
const withEntry = (item: VerifiedItem, changes: Partial<StoredEntry>): VerifiedItem => ({
  ...item,
  entry: { ...item.entry, ...changes },
})
/** As storage returns rows: ordered by seq (rows at one seq in the order given). */
const bySeq = (items: VerifiedItem[]) => [...items].sort((a, b) => a.entry.seq - b.entry.seq)

/** A forged event and an entry for it that links to entry `after`, at seq `seq`. */
function forgedAfter(after: number, seq: number): VerifiedItem {
  const event = { ...sampleEvent(900), category: 'forged' }
  const digest = contentDigest(event)
  const fields = {
    tenant: 'acme',
    chain: 'audit.normalized/3',
    seq,
    event_id: event.event_id,
    content_digest: digest,
    occurred_at: event.occurred_at,
    category: event.category,
    prev_hash: chain.hashes[after] as string,
  }
  return { entry: { ...fields, entry_hash: entryHash(fields) }, storedDigest: digest, storedAtMs: chainStart }
}

describe('createChainVerifier', () => {
  it('finds nothing in an intact chain', () => {
    const report = verify(chain.items)
    expect(report).toEqual({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      entries: 30,
      checkpoints: 3,
      firstVerifiedSeq: 0,
      startsAtCheckpoint: null,
      findings: [],
      findingsOmitted: 0,
    })
  })

  it('ignores exact duplicates of an entry (a retried insert)', () => {
    const items = bySeq([...chain.items, chain.items[7]!, chain.items[29]!])
    expect(verify(items)).toMatchObject({ entries: 30, findings: [] })
  })

  it('finds a changed event, and a deleted one', () => {
    const items = [...chain.items]
    items[12] = { ...items[12]!, storedDigest: contentDigest({ ...chain.events[12]!, severity: 'debug' }) }
    items[13] = { ...items[13]!, storedDigest: undefined }
    const { findings } = verify(items)
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'event-modified', seq: 12, event_id: chain.events[12]!.event_id }),
      expect.objectContaining({ kind: 'event-deleted', seq: 13, event_id: chain.events[13]!.event_id }),
    ])
  })

  it('finds a removed entry', () => {
    const { findings } = verify(chain.items.filter((_, seq) => seq !== 14))
    expect(findings).toEqual([
      {
        kind: 'entry-missing',
        tenant: 'acme',
        chain: 'audit.normalized/3',
        seq: 14,
        detail: `entries 14..14 are missing: the next stored entry is 15 (event ${chain.events[15]!.event_id})`,
      },
    ])
  })

  it('finds a removed entry whose successors were renumbered to close the gap, as one finding', () => {
    const items = chain.items
      .filter((_, seq) => seq !== 14)
      .map((item) => (item.entry.seq > 14 ? withEntry(item, { seq: item.entry.seq - 1 }) : item))
    const { findings } = verify(items)
    expect(kinds({ findings } as ChainReport)).toEqual(['entry-missing'])
    expect(findings[0]?.detail).toMatch(
      /^entries 14\.\.14 are missing.*; the 15 entries from entry 15 on are stored renumbered \(entry 15 at seq 14\)$/,
    )
  })

  it('finds newest entries removed, by the checkpoint that covers them', () => {
    const { findings } = verify(chain.items.slice(0, 25))
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'entry-missing',
        seq: 25,
        detail: 'entries 25..29 are missing: checkpoints cover up to 29, the stored entries end at 24',
      }),
    ])
  })

  it('finds a forged entry inserted at the seq of an existing one, whichever order they are read in', () => {
    const forged = forgedAfter(14, 15)
    for (const items of [
      [...chain.items.slice(0, 15), forged, ...chain.items.slice(15)],
      [...chain.items.slice(0, 16), forged, ...chain.items.slice(16)],
    ]) {
      const { findings } = verify(items)
      expect(findings).toEqual([
        expect.objectContaining({ kind: 'entry-forked', seq: 15, event_id: forged.entry.event_id }),
      ])
      expect(findings[0]?.detail).toContain(`the chain goes on from event ${chain.events[15]!.event_id}`)
    }
  })

  it('finds a forged entry inserted between two, the later ones renumbered, as one finding', () => {
    const items = [
      ...chain.items.slice(0, 15),
      forgedAfter(14, 15),
      ...chain.items.slice(15).map((item) => withEntry(item, { seq: item.entry.seq + 1 })),
    ]
    const { findings } = verify(items)
    expect(kinds({ findings } as ChainReport)).toEqual(['entry-forked'])
    expect(findings[0]?.detail).toMatch(
      /the 15 entries from entry 15 on are stored renumbered \(entry 15 at seq 16\)$/,
    )
  })

  it('reports two entries whose seqs were swapped once, without a cascade', () => {
    for (const [a, b] of [
      [12, 13],
      [12, 17],
      [9, 10],
    ] as const) {
      const items = [...chain.items]
      items[a] = withEntry(chain.items[a]!, { seq: b })
      items[b] = withEntry(chain.items[b]!, { seq: a })
      const { findings } = verify(bySeq(items))
      const [eventA, eventB] = [chain.events[a]!.event_id, chain.events[b]!.event_id]
      expect(findings).toEqual([
        {
          kind: 'event-reordered',
          tenant: 'acme',
          chain: 'audit.normalized/3',
          seq: a,
          event_id: eventA,
          detail: `event ${eventA} (entry ${a}) and event ${eventB} (entry ${b}) exchanged positions: they are stored at seq ${b} and ${a}`,
        },
      ])
    }
  })

  it('finds an entry changed in place once, the next link and the checkpoint agreeing with it', () => {
    const items = [...chain.items]
    const otherDigest = contentDigest(sampleEvent(77))
    items[5] = withEntry(items[5]!, { content_digest: otherDigest })
    const { findings } = verify(items)
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'entry-modified',
        seq: 5,
        detail: `entry 5: its content_digest was changed to ${otherDigest}; its entry_hash was computed over ${items[5].storedDigest}, the stored event's digest`,
      }),
    ])
  })

  it('finds an entry rewritten with a matching entry_hash by its broken link and the checkpoint', () => {
    const items = [...chain.items]
    const rewritten = { ...items[5]!.entry, event_id: chain.events[6]!.event_id }
    items[5] = withEntry(items[5]!, { event_id: rewritten.event_id, entry_hash: entryHash(rewritten) })
    const { findings } = verify(items)
    expect(kinds({ findings } as ChainReport)).toEqual(['entry-modified', 'checkpoint-root-mismatch'])
    expect(findings[0]).toMatchObject({ seq: 6, detail: expect.stringContaining('its prev_hash') as unknown })
    expect(findings[1]).toMatchObject({ checkpoint_seq: 0 })
  })

  it('finds the newest checkpoint removed: older entries are left uncovered', () => {
    const { findings } = verify(chain.items, { checkpoints: chain.checkpoints.slice(0, 2) })
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'checkpoint-missing',
        seq: 20,
        checkpoint_seq: 2,
        detail: expect.stringMatching(
          /^entries 20\.\.29 are covered by no checkpoint, and the oldest was stored at 2026-01-01T00:00:20\.000Z/,
        ) as unknown,
      }),
    ])
    // Within the grace, uncovered entries are simply not checkpointed yet.
    const recent = verify(chain.items, {
      checkpoints: chain.checkpoints.slice(0, 2),
      nowMs: chainStart + 60_000,
    })
    expect(recent.findings).toEqual([])
  })

  it('finds a checkpoint removed from the middle', () => {
    const { findings } = verify(chain.items, { checkpoints: [chain.checkpoints[0]!, chain.checkpoints[2]!] })
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'checkpoint-missing', checkpoint_seq: 1, seq: 10 }),
    ])
  })

  it('finds a checkpoint signed with a key it does not trust', () => {
    const foreign = buildCheckpoint({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      previous: chain.checkpoints[1]!,
      entries: chain.hashes.slice(20).map((hash, i) => ({ seq: 20 + i, hash })),
      createdAtMs: chainStart + 40_000,
      key: otherKey,
    })
    const { findings } = verify(chain.items, { checkpoints: [...chain.checkpoints.slice(0, 2), foreign] })
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'checkpoint-unknown-key',
        checkpoint_seq: 2,
        detail: `checkpoint 2 is signed by ${otherKey.keyId}, which is not among the trusted keys`,
      }),
    ])
  })

  it('finds altered signature bytes once, not again in the next checkpoint link', () => {
    const signature = Buffer.from(chain.checkpoints[1]!.signature, 'base64')
    signature[0] = (signature[0] as number) ^ 0x80
    const altered = { ...chain.checkpoints[1]!, signature: signature.toString('base64') }
    const { findings } = verify(chain.items, {
      checkpoints: [chain.checkpoints[0]!, altered, chain.checkpoints[2]!],
    })
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'checkpoint-signature-invalid', checkpoint_seq: 1 }),
    ])
  })

  it('finds a checkpoint whose link or root does not match', () => {
    const [first, second, third] = chain.checkpoints as [SignedCheckpoint, SignedCheckpoint, SignedCheckpoint]
    const relinked = buildCheckpoint({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      previous: { ...second, created_at: 1 },
      entries: chain.hashes.slice(20).map((hash, i) => ({ seq: 20 + i, hash })),
      createdAtMs: third.created_at,
      key,
    })
    expect(kinds(verify(chain.items, { checkpoints: [first, second, relinked] }))).toEqual([
      'checkpoint-chain-broken',
    ])
    const wrongRoot = buildCheckpoint({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      previous: second,
      entries: chain.hashes
        .slice(20)
        .map((hash, i) => ({ seq: 20 + i, hash: i === 3 ? chain.hashes[0]! : hash })),
      createdAtMs: third.created_at,
      key,
    })
    const { findings } = verify(chain.items, { checkpoints: [first, second, wrongRoot] })
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'checkpoint-root-mismatch', checkpoint_seq: 2, seq: 20 }),
    ])
  })

  it('starts at the first retained checkpoint when earlier entries and checkpoints are gone', () => {
    const report = verify(chain.items.slice(10), { checkpoints: chain.checkpoints.slice(1) })
    expect(report).toMatchObject({ entries: 20, firstVerifiedSeq: 10, startsAtCheckpoint: 1, findings: [] })
    // Entries older than the first retained checkpoint are ignored, not reported.
    expect(verify(chain.items.slice(4), { checkpoints: chain.checkpoints.slice(1) }).findings).toEqual([])
  })

  it('without checkpoints, expects entries from seq 0', () => {
    const { findings } = verify(chain.items.slice(3), { checkpoints: [], nowMs: chainStart })
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'entry-missing',
        seq: 0,
        detail: expect.stringMatching(/^entries 0\.\.2 are missing/) as unknown,
      }),
    ])
  })

  it('keeps at most maxFindings findings and counts the rest', () => {
    const items = chain.items.map((item) => ({ ...item, storedDigest: undefined }))
    const report = verify(items, { maxFindings: 5 })
    expect(report.findings).toHaveLength(5)
    expect(report.findingsOmitted).toBe(25)
  })

  it('words the findings its callers make', () => {
    const checkpoint = chain.checkpoints[2]!
    const findings: Finding[] = [
      insertedEventFinding('acme', 'e-9', 'ab'.repeat(32)),
      rolledBackFinding(checkpoint, 'the checkpoint topic'),
    ]
    expect(findings).toEqual([
      {
        kind: 'event-inserted',
        tenant: 'acme',
        chain: '',
        event_id: 'e-9',
        detail: `event e-9 (content digest ${'ab'.repeat(32)}) is stored, but no chain entry records it`,
      },
      {
        kind: 'checkpoint-rolled-back',
        tenant: 'acme',
        chain: 'audit.normalized/3',
        checkpoint_seq: 2,
        seq: 20,
        detail:
          'checkpoint 2 (seq 20..29) is in the checkpoint topic but not in storage: storage was rolled back or the checkpoint removed',
      },
    ])
    expect(findingKinds).toHaveLength(13)
  })
})
