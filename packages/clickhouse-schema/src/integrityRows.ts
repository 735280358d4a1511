import { checkpointHash, type ChainEntry, type SignedCheckpoint } from '@audit-pipeline/integrity'
import { toDateTime64Text } from '@audit-pipeline/storage'

/** A row of `audit_chain` as JSONEachRow writes it (integrityTables.ts). */
export type ChainEntryRow = {
  tenant: string
  chain: string
  seq: number
  event_id: string
  content_digest: string
  prev_hash: string
  entry_hash: string
  occurred_at: string
  category: string
  stored_at: string
}

/** The `audit_chain` row of an entry whose hash is `hash`, written at `storedAtMs`. Pure. */
export function chainEntryRow(entry: ChainEntry, hash: string, storedAtMs: number): ChainEntryRow {
  return {
    tenant: entry.tenant,
    chain: entry.chain,
    seq: entry.seq,
    event_id: entry.event_id,
    content_digest: entry.content_digest,
    prev_hash: entry.prev_hash,
    entry_hash: hash,
    occurred_at: toDateTime64Text(new Date(entry.occurred_at)),
    category: entry.category,
    stored_at: toDateTime64Text(new Date(storedAtMs)),
  }
}

/** A row of `audit_checkpoints` as JSONEachRow writes it. */
export type CheckpointRow = Omit<SignedCheckpoint, 'form' | 'created_at'> & {
  created_at: string
  checkpoint_hash: string
}

/** The `audit_checkpoints` row of a signed checkpoint, with its hash (what the next one chains to). Pure. */
export function checkpointRow(checkpoint: SignedCheckpoint): CheckpointRow {
  const { form: _form, created_at, ...rest } = checkpoint
  return {
    ...rest,
    created_at: toDateTime64Text(new Date(created_at)),
    checkpoint_hash: checkpointHash(checkpoint),
  }
}

/**
 * The select list reading `audit_checkpoints` rows back as checkpoints, the time as epoch
 * milliseconds. Its alias is a name of its own: one named like a column would be what ClickHouse
 * reads in the query's WHERE and ORDER BY (`toString(checkpoint_seq) AS checkpoint_seq` once made
 * `ORDER BY checkpoint_seq DESC` put checkpoint 9 after 11).
 */
export const storedCheckpointSelect = [
  'tenant',
  'chain',
  'checkpoint_seq',
  'first_seq',
  'last_seq',
  'merkle_root',
  'last_entry_hash',
  'previous_checkpoint_hash',
  'toUnixTimestamp64Milli(created_at) AS created_ms',
  'key_id',
  'signature',
].join(', ')

/** A row as storedCheckpointSelect reads it in JSONEachRow: 64-bit integers as numbers, or as text when quoted. */
export type StoredCheckpointRow = Record<
  'checkpoint_seq' | 'first_seq' | 'last_seq' | 'created_ms',
  string | number
> &
  Pick<
    SignedCheckpoint,
    | 'tenant'
    | 'chain'
    | 'merkle_root'
    | 'last_entry_hash'
    | 'previous_checkpoint_hash'
    | 'key_id'
    | 'signature'
  >

/** The checkpoint a stored row holds: the inverse of checkpointRow. Pure. */
export function checkpointOfStoredRow(row: StoredCheckpointRow): SignedCheckpoint {
  return {
    form: 'audit-pipeline/checkpoint/1',
    tenant: row.tenant,
    chain: row.chain,
    checkpoint_seq: Number(row.checkpoint_seq),
    first_seq: Number(row.first_seq),
    last_seq: Number(row.last_seq),
    merkle_root: row.merkle_root,
    last_entry_hash: row.last_entry_hash,
    previous_checkpoint_hash: row.previous_checkpoint_hash,
    created_at: Number(row.created_ms),
    key_id: row.key_id,
    signature: row.signature,
  }
}
