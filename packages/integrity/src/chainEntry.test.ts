import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from './canonicalJson.js'
import {
  appendToChain,
  type ChainEntry,
  entryHash,
  entryLeafBytes,
  genesisHead,
  zeroHash,
} from './chainEntry.js'
import { anyText } from './testSupport/auditEvents.js'

const wellFormedText = anyText.map((text) => text.toWellFormed())
const anyEntry: fc.Arbitrary<ChainEntry> = fc.record({
  tenant: wellFormedText,
  chain: wellFormedText,
  seq: fc.maxSafeNat(),
  event_id: wellFormedText,
  content_digest: wellFormedText,
  occurred_at: fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
  category: wellFormedText,
  prev_hash: wellFormedText,
})

/** What an entry records of an event, at a fixed time and category. */
const chained = (eventId: string, digest: string) => ({
  event_id: eventId,
  content_digest: digest,
  occurred_at: 1_767_225_600_000,
  category: 'business',
})

describe('chain entries', () => {
  it('leaf bytes are the UTF-8 of the canonical JSON of the tagged entry', () => {
    fc.assert(
      fc.property(anyEntry, (entry) => {
        const expected = Buffer.from(canonicalJson({ form: 'audit-chain-entry/1', ...entry }), 'utf8')
        expect(entryLeafBytes(entry).equals(expected)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('hashes as an RFC 6962 leaf: SHA-256(0x00 || leaf bytes)', () => {
    const entry = appendToChain(
      genesisHead('acme', 'audit.normalized/3'),
      chained('e-1', 'a'.repeat(64)),
    ).entry
    const expected = createHash('sha256').update(Buffer.of(0)).update(entryLeafBytes(entry)).digest('hex')
    expect(entryHash(entry)).toBe(expected)
  })

  it('appends purely: seq from 0, each entry linking to the hash before', () => {
    const genesis = genesisHead('acme', 'audit.normalized/3')
    expect(genesis).toEqual({ tenant: 'acme', chain: 'audit.normalized/3', nextSeq: 0, lastHash: zeroHash })
    const first = appendToChain(genesis, chained('e-1', 'a'.repeat(64)))
    const second = appendToChain(first.head, chained('e-2', 'b'.repeat(64)))
    expect(genesis.nextSeq).toBe(0)
    expect(first.entry).toEqual({
      tenant: 'acme',
      chain: 'audit.normalized/3',
      seq: 0,
      event_id: 'e-1',
      content_digest: 'a'.repeat(64),
      occurred_at: 1_767_225_600_000,
      category: 'business',
      prev_hash: zeroHash,
    })
    expect(first.hash).toBe(entryHash(first.entry))
    expect(second.entry.seq).toBe(1)
    expect(second.entry.prev_hash).toBe(first.hash)
    expect(second.head).toEqual({ ...genesis, nextSeq: 2, lastHash: second.hash })
  })

  it('refuses an occurred_at that is not whole milliseconds', () => {
    const entry = appendToChain(genesisHead('acme', 'c'), chained('e', 'a'.repeat(64))).entry
    expect(() => entryHash({ ...entry, occurred_at: 1.5 })).toThrow(/integer number of epoch milliseconds/)
  })

  it('refuses a seq that is not a non-negative integer', () => {
    const entry = appendToChain(genesisHead('acme', 'c'), chained('e', 'a'.repeat(64))).entry
    expect(() => entryHash({ ...entry, seq: -1 })).toThrow(/non-negative integer/)
    expect(() => entryHash({ ...entry, seq: 0.5 })).toThrow(/non-negative integer/)
  })
})
