import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { eventOfStoredRow, storedEventSelect, type StoredEventRow } from '@audit-pipeline/clickhouse-schema'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  checkpointHash,
  contentDigest,
  createChainVerifier,
  entryHash,
  parseSigningKey,
  zeroHash,
  type ChainReport,
  type PublicKeySet,
  type SignedCheckpoint,
  type StoredEntry,
} from '@audit-pipeline/integrity'
import { testSigningKeyFile } from '@audit-pipeline/testing'
import type { IntegrityPipeline } from './integrityPipeline.js'

/** An `audit_events` row read back as its event, with where the sink read it. */
export type StoredEventOfRow = { event: AuditEvent; digest: string; topic: string; partition: number }

/** A stored checkpoint and the hash the sink stored beside it. */
export type StoredCheckpoint = { checkpoint: SignedCheckpoint; storedHash: string }

/** What ClickHouse holds for some tenants: every event row (physical, not deduplicated), chain entry and checkpoint. */
export type StoredTrail = {
  events: StoredEventOfRow[]
  /** In (tenant, chain, seq) order, with when each was stored. */
  entries: (StoredEntry & { storedAtMs: number })[]
  /** In (tenant, chain, checkpoint_seq) order. */
  checkpoints: StoredCheckpoint[]
}

/** The sink's public key, as `audit-pipeline verify` would trust it: the half of the key the test gave the sink. */
export function sinkPublicKeys(): PublicKeySet {
  const key = parseSigningKey(readFileSync(testSigningKeyFile(), 'utf8'), testSigningKeyFile())
  return new Map([[key.keyId, key.publicKey]])
}

const quoted = (values: readonly string[]) =>
  values.map((value) => `'${value.replace(/[^A-Za-z0-9_-]/g, '')}'`).join(', ')

/** Reads the trail of `tenants` (names of letters, digits, _ and -) from the stopped pipeline's ClickHouse. */
export function readStoredTrail(pipeline: IntegrityPipeline, tenants: readonly string[]): StoredTrail {
  const inTenants = `tenant IN (${quoted(tenants)})`
  const [eventRows = [], entryRows = [], checkpointRows = []] = pipeline.query([
    `SELECT ${storedEventSelect}, kafka_topic, kafka_partition FROM audit_events WHERE ${inTenants} ORDER BY kafka_topic, kafka_partition, kafka_offset`,
    `SELECT tenant, chain, toString(seq) AS seq_text, toString(event_id) AS event_id_text, content_digest, prev_hash, entry_hash,
            toString(toUnixTimestamp64Milli(occurred_at)) AS occurred_ms, category,
            toString(toUnixTimestamp64Milli(stored_at)) AS stored_ms
     FROM audit_chain WHERE ${inTenants} ORDER BY tenant, chain, seq`,
    // Not clickhouse-schema's storedCheckpointSelect: the test reads the columns on its own terms.
    `SELECT tenant, chain, toString(checkpoint_seq) AS checkpoint_seq_text, toString(first_seq) AS first_seq_text,
            toString(last_seq) AS last_seq_text, merkle_root, last_entry_hash, previous_checkpoint_hash,
            toString(toUnixTimestamp64Milli(created_at)) AS created_ms, key_id, signature, checkpoint_hash
     FROM audit_checkpoints WHERE ${inTenants} ORDER BY tenant, chain, checkpoint_seq`,
  ])
  return {
    events: eventRows.map((row) => {
      const event = eventOfStoredRow(row as unknown as StoredEventRow)
      return {
        event,
        digest: contentDigest(event),
        topic: String(row['kafka_topic']),
        partition: Number(row['kafka_partition']),
      }
    }),
    entries: entryRows.map((row) => ({
      tenant: String(row['tenant']),
      chain: String(row['chain']),
      seq: Number(row['seq_text']),
      event_id: String(row['event_id_text']),
      content_digest: String(row['content_digest']),
      occurred_at: Number(row['occurred_ms']),
      category: String(row['category']),
      prev_hash: String(row['prev_hash']),
      entry_hash: String(row['entry_hash']),
      storedAtMs: Number(row['stored_ms']),
    })),
    checkpoints: checkpointRows.map((row) => ({
      checkpoint: {
        form: 'audit-pipeline/checkpoint/1',
        tenant: String(row['tenant']),
        chain: String(row['chain']),
        checkpoint_seq: Number(row['checkpoint_seq_text']),
        first_seq: Number(row['first_seq_text']),
        last_seq: Number(row['last_seq_text']),
        merkle_root: String(row['merkle_root']),
        last_entry_hash: String(row['last_entry_hash']),
        previous_checkpoint_hash: String(row['previous_checkpoint_hash']),
        created_at: Number(row['created_ms']),
        key_id: String(row['key_id']),
        signature: String(row['signature']),
      },
      storedHash: String(row['checkpoint_hash']),
    })),
  }
}

/** A chain's problems found by recomputing it directly: links, hashes, seqs. Empty when it holds. */
export function chainLinkProblems(entries: readonly StoredEntry[]): string[] {
  const problems: string[] = []
  entries.forEach((entry, index) => {
    const where = `${entry.tenant} ${entry.chain} seq ${entry.seq}`
    if (entry.seq !== index) problems.push(`${where}: stored at position ${index}`)
    const expectedPrev = index === 0 ? zeroHash : entries[index - 1]!.entry_hash
    if (entry.prev_hash !== expectedPrev)
      problems.push(`${where}: prev_hash ${entry.prev_hash}, expected ${expectedPrev}`)
    const recomputed = entryHash(entry)
    if (entry.entry_hash !== recomputed)
      problems.push(`${where}: entry_hash ${entry.entry_hash}, recomputed ${recomputed}`)
  })
  return problems
}

/** The trail's entries by (tenant, chain), each chain in seq order. */
export function chainsOf(trail: StoredTrail): StoredTrail['entries'][] {
  const chains = new Map<string, StoredTrail['entries']>()
  for (const entry of trail.entries) {
    const key = `${entry.tenant}\u0000${entry.chain}`
    chains.set(key, [...(chains.get(key) ?? []), entry])
  }
  return [...chains.values()]
}

/**
 * Every (tenant, chain) of the trail through the verification engine (packages/integrity), as
 * `audit-pipeline verify` runs it: entries in seq order with the digest recomputed from the stored
 * event row and when each was stored, the chain's stored checkpoints, the sink's public key. With
 * the default grace of 0, every entry must be covered by a checkpoint: what a sink leaves after a
 * clean stop.
 */
export function verifyStoredChains(
  trail: StoredTrail,
  options: { checkpointGraceMs?: number; nowMs?: number } = {},
): ChainReport[] {
  const keys = sinkPublicKeys()
  const digests = new Map(
    trail.events.map(({ event, digest }) => [`${event.tenant}\u0000${event.event_id}`, digest]),
  )
  return chainsOf(trail).map((entries) => {
    const { tenant, chain } = entries[0]!
    const verifier = createChainVerifier({
      tenant,
      chain,
      checkpoints: trail.checkpoints
        .filter(({ checkpoint }) => checkpoint.tenant === tenant && checkpoint.chain === chain)
        .map(({ checkpoint }) => checkpoint),
      keys,
      checkpointGraceMs: options.checkpointGraceMs ?? 0,
      nowMs: options.nowMs ?? Date.now(),
    })
    for (const { storedAtMs, ...entry } of entries) {
      verifier.add({ entry, storedDigest: digests.get(`${entry.tenant}\u0000${entry.event_id}`), storedAtMs })
    }
    return verifier.finish()
  })
}

/** Each stored checkpoint's problems: its stored hash, and its link to the checkpoint before it. */
export function checkpointLinkProblems(checkpoints: readonly StoredCheckpoint[]): string[] {
  const problems: string[] = []
  checkpoints.forEach(({ checkpoint, storedHash }, index) => {
    const where = `${checkpoint.tenant} ${checkpoint.chain} checkpoint ${checkpoint.checkpoint_seq}`
    if (storedHash !== checkpointHash(checkpoint))
      problems.push(`${where}: stored checkpoint_hash is not its hash`)
    const previous = checkpoints[index - 1]?.checkpoint
    const samechain = previous?.tenant === checkpoint.tenant && previous.chain === checkpoint.chain
    const expected = samechain ? checkpointHash(previous) : zeroHash
    if (checkpoint.previous_checkpoint_hash !== expected) {
      problems.push(
        `${where}: previous_checkpoint_hash ${checkpoint.previous_checkpoint_hash}, expected ${expected}`,
      )
    }
  })
  return problems
}

/**
 * The trail holds: every stored event has exactly one chain entry, every link and entry hash
 * recomputes, the stored checkpoint hashes and links recompute, and the verification engine finds
 * nothing (every entry covered by a checkpoint signed with the sink's key).
 */
export function expectTrailIntact(trail: StoredTrail): void {
  const entriesPerEvent = new Map<string, number>()
  for (const entry of trail.entries) {
    const key = `${entry.tenant}/${entry.event_id}`
    entriesPerEvent.set(key, (entriesPerEvent.get(key) ?? 0) + 1)
  }
  expect(
    trail.events.map(
      ({ event }) => `${event.event_id} ${entriesPerEvent.get(`${event.tenant}/${event.event_id}`) ?? 0}`,
    ),
    'one chain entry per stored event',
  ).toEqual(trail.events.map(({ event }) => `${event.event_id} 1`))
  expect(trail.entries, 'no entry without its event').toHaveLength(trail.events.length)
  expect(chainsOf(trail).flatMap(chainLinkProblems)).toEqual([])
  expect(checkpointLinkProblems(trail.checkpoints)).toEqual([])
  expect(verifyStoredChains(trail).flatMap((report) => report.findings)).toEqual([])
}
