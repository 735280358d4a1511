import { eventOfStoredRow, type StoredEventRow } from '@audit-pipeline/clickhouse-schema'
import {
  buildInclusionProof,
  contentDigest,
  entryHash,
  merkleRoot,
  type InclusionProofDocument,
  type SignedCheckpoint,
  type StoredEntry,
} from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'
import { chainRowsOfPage } from './chainPages.js'
import {
  chainPageStatement,
  coveringCheckpointsStatement,
  entriesOfEventStatement,
  storedEventStatement,
  trailTables,
  type EntryOfEventRow,
} from './trailQueries.js'
import { assertTrailTables, queryBytes, queryCheckpoints, queryRows } from './trailStore.js'
import { VerificationError } from './verificationError.js'

export type BuildProofOptions = {
  storage: Storage
  database: string
  eventId: string
  /** The event's tenant; needed only when the id is stored for more than one. */
  tenant?: string
  /** How often the sink signs checkpoints (SINK_CHECKPOINT_INTERVAL_MS), to say when a missing one is due. Default 60,000. */
  checkpointIntervalMs?: number
}

const uuidText = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/**
 * The inclusion proof of a stored event: its chain entry, the first checkpoint covering it, the
 * audit path from the entry to that checkpoint's Merkle root, and the event as stored. Nothing
 * stored is taken on trust: the entry's and every covered entry's hashes are recomputed from their
 * fields (never read from entry_hash), the event's digest from its row, and the root from those
 * hashes, so a proof is only built from a trail that still gives the signed root. Throws
 * VerificationError: EVENT_NOT_FOUND, EVENT_AMBIGUOUS, NOT_YET_COVERED or TRAIL_CHANGED.
 */
export async function buildProof(options: BuildProofOptions): Promise<InclusionProofDocument> {
  const { storage } = options
  const tables = trailTables(options.database)
  if (!uuidText.test(options.eventId)) {
    throw new VerificationError(
      'EVENT_NOT_FOUND',
      `${JSON.stringify(options.eventId)} is not an event id (a UUID)`,
    )
  }
  const eventId = options.eventId.toLowerCase()
  await assertTrailTables(storage, options.database)
  const entries = await queryRows<EntryOfEventRow>(
    storage,
    entriesOfEventStatement(tables, eventId, options.tenant),
  )
  const entry = onlyEntry(entries, eventId, options.tenant)
  if (entry === undefined) {
    const stored = await queryRows<StoredEventRow>(
      storage,
      storedEventStatement(tables, eventId, options.tenant),
    )
    throw new VerificationError(
      'EVENT_NOT_FOUND',
      stored.length === 0
        ? `no event ${eventId} is stored${options.tenant === undefined ? '' : ` for tenant ${options.tenant}`}`
        : `event ${eventId} is stored, but no chain entry records it: it was inserted around the sink, or the sink has not chained it yet (\`audit-pipeline verify\` says which)`,
    )
  }
  const { tenant, chain, seq } = entry.entry

  const stored = await queryRows<StoredEventRow>(storage, storedEventStatement(tables, eventId, tenant))
  const events = stored.map(eventOfStoredRow)
  const event = events.find((candidate) => contentDigest(candidate) === entry.entry.content_digest)
  if (event === undefined) {
    throw new VerificationError(
      'TRAIL_CHANGED',
      events.length === 0
        ? `entry ${seq} of ${tenant} ${chain} records event ${eventId}, which is no longer stored (removed by retention, or deleted)`
        : `event ${eventId} as stored no longer has the content digest entry ${seq} of ${tenant} ${chain} recorded (${entry.entry.content_digest}): it was changed after it was stored`,
    )
  }
  if (
    events.length > 1 &&
    events.some((candidate) => contentDigest(candidate) !== entry.entry.content_digest)
  ) {
    throw new VerificationError(
      'TRAIL_CHANGED',
      `event ${eventId} is stored twice with different content: one copy was changed after it was stored`,
    )
  }
  const checkpoint = (
    await queryCheckpoints(storage, coveringCheckpointsStatement(tables, tenant, chain, seq))
  )[0]
  if (checkpoint === undefined) throw notYetCovered(entry, options.checkpointIntervalMs ?? 60_000)

  const coveredEntryHashes = await coveredHashes(storage, tables, checkpoint)
  if (
    merkleRoot(coveredEntryHashes.map((hash) => Buffer.from(hash, 'hex'))).toString('hex') !==
    checkpoint.merkle_root
  ) {
    throw new VerificationError(
      'TRAIL_CHANGED',
      `the stored entries ${checkpoint.first_seq}..${checkpoint.last_seq} of ${tenant} ${chain} no longer give the Merkle root checkpoint ${checkpoint.checkpoint_seq} signed: run \`audit-pipeline verify --tenant ${tenant}\``,
    )
  }
  return buildInclusionProof({ event, entry: entry.entry, coveredEntryHashes, checkpoint })
}

type FoundEntry = { entry: StoredEntry; storedAtMs: number }

function onlyEntry(
  rows: readonly EntryOfEventRow[],
  eventId: string,
  tenant: string | undefined,
): FoundEntry | undefined {
  const tenants = [...new Set(rows.map((row) => row.tenant))].sort()
  if (tenants.length > 1) {
    throw new VerificationError(
      'EVENT_AMBIGUOUS',
      `event ${eventId} is recorded for more than one tenant (${tenants.join(', ')}): name one with --tenant`,
    )
  }
  const distinct = [...new Map(rows.map((row) => [JSON.stringify(row), row])).values()]
  const [row, other] = distinct
  if (row === undefined) return undefined
  if (
    other !== undefined &&
    (other.chain !== row.chain || other.seq !== row.seq || other.entry_hash !== row.entry_hash)
  ) {
    throw new VerificationError(
      'TRAIL_CHANGED',
      `event ${eventId} of ${tenant ?? row.tenant} is recorded by more than one entry (${distinct.map((r) => `${r.chain} seq ${r.seq}`).join(', ')}): run \`audit-pipeline verify\``,
    )
  }
  return {
    entry: {
      tenant: row.tenant,
      chain: row.chain,
      seq: Number(row.seq),
      event_id: row.event_id,
      content_digest: row.content_digest,
      occurred_at: Number(row.occurred_at),
      category: row.category,
      prev_hash: row.prev_hash,
      entry_hash: row.entry_hash,
    },
    storedAtMs: Number(row.stored_at),
  }
}

function notYetCovered(found: FoundEntry, intervalMs: number): VerificationError {
  const { tenant, chain, seq } = found.entry
  const dueAt = new Date(found.storedAtMs + intervalMs).toISOString()
  return new VerificationError(
    'NOT_YET_COVERED',
    `entry ${seq} of ${tenant} ${chain} was stored at ${new Date(found.storedAtMs).toISOString()} and is not covered by a checkpoint yet; the sink signs one within SINK_CHECKPOINT_INTERVAL_MS (${intervalMs} ms) of storing an entry, so it is due by ${dueAt}: ask again then`,
  )
}

/** The hashes of the checkpoint's entries, recomputed from their stored fields, in seq order. */
async function coveredHashes(
  storage: Storage,
  tables: ReturnType<typeof trailTables>,
  checkpoint: SignedCheckpoint,
): Promise<string[]> {
  const { tenant, chain, first_seq: first, last_seq: last } = checkpoint
  const rows = chainRowsOfPage(
    await queryBytes(storage, chainPageStatement(tables, tenant, chain, first, last)),
    tenant,
    chain,
  )
  const hashes: string[] = []
  for (const { entry } of rows) {
    const hash = entryHash(entry)
    const index = entry.seq - first
    if (index === hashes.length) hashes.push(hash)
    else if (index !== hashes.length - 1 || hashes[index] !== hash) {
      throw new VerificationError(
        'TRAIL_CHANGED',
        `the stored entries of ${tenant} ${chain} covered by checkpoint ${checkpoint.checkpoint_seq} are not entries ${first}..${last} once each (at seq ${entry.seq}): run \`audit-pipeline verify --tenant ${tenant}\``,
      )
    }
  }
  if (hashes.length !== last - first + 1) {
    throw new VerificationError(
      'TRAIL_CHANGED',
      `checkpoint ${checkpoint.checkpoint_seq} of ${tenant} ${chain} covers entries ${first}..${last}, of which ${hashes.length} are stored: run \`audit-pipeline verify --tenant ${tenant}\``,
    )
  }
  return hashes
}
