import { hash } from 'node:crypto'
import { jsonText } from './canonicalJson.js'

/**
 * The hash chain: per (tenant, chain), entry `seq` records an event's id, content digest, time and
 * category, and the hash of entry `seq - 1`, so changing, removing or reordering any entry breaks
 * every link after it. The time and category outlive the event: once retention has removed it,
 * they say (under the signature) that it was due to go, so verify can tell expiry from deletion. The entry's hash is also its leaf in the checkpoints' Merkle trees (RFC 6962 leaf
 * hash), so one value serves as both the link and the leaf.
 */

/** prev_hash of seq 0, and previous_checkpoint_hash of a chain's first checkpoint. */
export const zeroHash = '0'.repeat(64)

export const entryForm = 'audit-chain-entry/1'

/** One link. `chain` names a stream, such as `audit.normalized/3`; seq starts at 0 per (tenant, chain). */
export type ChainEntry = {
  tenant: string
  chain: string
  seq: number
  event_id: string
  content_digest: string
  /** The event's occurred_at, epoch milliseconds. */
  occurred_at: number
  /** The event's category: with the tenant and occurred_at, what its retention period depends on. */
  category: string
  prev_hash: string
}

/** What an entry records of its event. */
export type ChainedEvent = Pick<ChainEntry, 'event_id' | 'content_digest' | 'occurred_at' | 'category'>

/** Where a chain stands: the seq the next entry takes and the hash it links to. */
export type ChainHead = { tenant: string; chain: string; nextSeq: number; lastHash: string }

/**
 * UTF-8 of the RFC 8785 text of `{ form: 'audit-chain-entry/1', ...entry }`, written directly
 * (the field names are fixed and already in sorted order below); a property test holds it
 * byte-identical to canonicalJson. Strings are made well-formed, as in the event's canonical form.
 */
export function entryLeafBytes(entry: ChainEntry): Buffer {
  return Buffer.from(entryJson(entry, entry.seq), 'utf8')
}

/** Lowercase hex of the RFC 6962 leaf hash of the entry: SHA-256(0x00 || entryLeafBytes(entry)). */
export function entryHash(entry: ChainEntry): string {
  return entryHashAt(entry, entry.seq)
}

/** The leaf hash as bytes, as a Merkle tree takes it. */
export function entryHashBytes(entry: ChainEntry): Buffer {
  return Buffer.from(entryHashAt(entry, entry.seq), 'hex')
}

/**
 * The entry's hash had it been at `seq`: how a verifier tells an entry found at the wrong position
 * that is intact and only renumbered. (Hex output: a one-shot hash into a new Buffer costs twice
 * as much on Node 20.)
 */
export function entryHashAt(entry: ChainEntry, seq: number): string {
  // U+0000 is the single byte 0x00 in UTF-8: the leaf prefix, hashed in one call with the rest.
  return hash('sha256', `\u0000${entryJson(entry, seq)}`, 'hex')
}

function entryJson(entry: ChainEntry, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new TypeError(`a chain entry's seq must be a non-negative integer, got ${String(seq)}`)
  }
  if (!Number.isSafeInteger(entry.occurred_at)) {
    throw new TypeError(
      `a chain entry's occurred_at must be an integer number of epoch milliseconds, got ${String(entry.occurred_at)}`,
    )
  }
  return (
    `{"category":${text(entry.category)},"chain":${text(entry.chain)}` +
    `,"content_digest":${text(entry.content_digest)},"event_id":${text(entry.event_id)}` +
    `,"form":"${entryForm}","occurred_at":${String(entry.occurred_at)},"prev_hash":${text(entry.prev_hash)}` +
    `,"seq":${String(seq)},"tenant":${text(entry.tenant)}}`
  )
}

const text = jsonText

/** A new chain: the first entry takes seq 0 and links to zeroHash. */
export function genesisHead(tenant: string, chain: string): ChainHead {
  return { tenant, chain, nextSeq: 0, lastHash: zeroHash }
}

/** The next entry of the chain at `head`, its hash, and the head after it. Pure: `head` is unchanged. */
export function appendToChain(
  head: ChainHead,
  event: ChainedEvent,
): { entry: ChainEntry; hash: string; head: ChainHead } {
  const entry: ChainEntry = {
    tenant: head.tenant,
    chain: head.chain,
    seq: head.nextSeq,
    event_id: event.event_id,
    content_digest: event.content_digest,
    occurred_at: event.occurred_at,
    category: event.category,
    prev_hash: head.lastHash,
  }
  const hash = entryHash(entry)
  return { entry, hash, head: { ...head, nextSeq: head.nextSeq + 1, lastHash: hash } }
}
