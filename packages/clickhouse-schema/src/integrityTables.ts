import type { MigrationOptions } from './migrations.js'
import { longestRetention } from './retention.js'
import { retentionTtl } from './retentionTtl.js'
import { tableLayout } from './tableLayout.js'

/** The integrity records: written by the ClickHouse sink only, read by `audit-pipeline verify` and `proof`. */
export const integrityTables = {
  /**
   * One row per stored event: its place in its tenant's hash chain (packages/integrity). Append
   * only: nothing merges or replaces a row.
   */
  chain: 'audit_chain',
  /** Signed checkpoints: a Merkle root over a run of chain entries, chained to the one before. */
  checkpoints: 'audit_checkpoints',
} as const

const time = "DateTime64(3, 'UTC')"
const label = 'LowCardinality(String)'

/** `audit_chain`'s columns, in order, as chainRow writes them. */
export const chainColumns: readonly (readonly [name: string, type: string])[] = [
  ['tenant', label],
  ['chain', label],
  ['seq', 'UInt64'],
  ['event_id', 'UUID'],
  ['content_digest', 'String'],
  ['prev_hash', 'String'],
  ['entry_hash', 'String'],
  ['occurred_at', time],
  ['category', label],
  ['stored_at', time],
]

/** `audit_checkpoints`' columns, in order, as checkpointRow writes them. */
export const checkpointColumns: readonly (readonly [name: string, type: string])[] = [
  ['tenant', label],
  ['chain', label],
  ['checkpoint_seq', 'UInt64'],
  ['first_seq', 'UInt64'],
  ['last_seq', 'UInt64'],
  ['merkle_root', 'String'],
  ['last_entry_hash', 'String'],
  ['previous_checkpoint_hash', 'String'],
  ['created_at', time],
  ['key_id', label],
  ['signature', 'String'],
  ['checkpoint_hash', 'String'],
]

const columnList = (columns: readonly (readonly [string, string])[]) =>
  columns.map(([name, type]) => `    ${name} ${type}`).join(',\n')

/**
 * Migration 2: the hash chain and its checkpoints. Plain MergeTree, so no merge ever drops or
 * replaces a row (an exact copy from a retried insert is harmless: verify reads it as one). Rows
 * are kept for the policy's longest period, counted from when they were written, so every
 * event's entry outlives the event and a chain is cut only at its oldest end, where verification
 * then starts from the first checkpoint left. Partitioned by the month written, so one batch's
 * entries are one insert, all or nothing.
 */
export function integrityTablesV2(options: MigrationOptions): string[] {
  const layout = tableLayout(options)
  const { onCluster } = layout
  const chain = layout.stored(integrityTables.chain)
  const checkpoints = layout.stored(integrityTables.checkpoints)
  const ttl = (timeColumn: string) => `TTL ${keptFor(options, timeColumn)}`
  const settings =
    layout.deduplicationSettings.length === 0 ? '' : `\nSETTINGS ${layout.deduplicationSettings.join(', ')}`
  return [
    // The projection answers the sink's "is this (tenant, event_id) stored, with which digest?"
    // for any age of the event, reading only the rows of the ids asked for.
    `CREATE TABLE IF NOT EXISTS ${chain}${onCluster}
(
${columnList(chainColumns)},
    PROJECTION by_event_id (
        SELECT tenant, event_id, content_digest, chain, seq, stored_at
        ORDER BY (tenant, event_id)
    )
)
ENGINE = ${layout.engine('MergeTree', layout.storedName(integrityTables.chain))}
PARTITION BY toYYYYMM(stored_at)
ORDER BY (tenant, chain, seq)
${ttl('toDateTime(stored_at)')}${settings}`,
    ...layout.distributed(integrityTables.chain, columnList(chainColumns), 'cityHash64(tenant, chain)'),

    `CREATE TABLE IF NOT EXISTS ${checkpoints}${onCluster}
(
${columnList(checkpointColumns)}
)
ENGINE = ${layout.engine('MergeTree', layout.storedName(integrityTables.checkpoints))}
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, chain, checkpoint_seq)
${ttl('toDateTime(created_at)')}${settings}`,
    ...layout.distributed(
      integrityTables.checkpoints,
      columnList(checkpointColumns),
      'cityHash64(tenant, chain)',
    ),
  ]
}

/** The statements that make the integrity tables keep rows for `options.retention`'s longest period (see retentionStatements). */
export function integrityRetentionStatements(options: MigrationOptions): string[] {
  const layout = tableLayout(options)
  const modify = (table: string, timeColumn: string) =>
    `ALTER TABLE ${layout.stored(table)}${layout.onCluster}\nMODIFY TTL ${keptFor(options, timeColumn)}`
  return [
    modify(integrityTables.chain, 'toDateTime(stored_at)'),
    modify(integrityTables.checkpoints, 'toDateTime(created_at)'),
  ]
}

/** `time` plus the policy's longest period: when an integrity record may go. */
function keptFor(options: MigrationOptions, time: string): string {
  return retentionTtl({ byCategory: {}, byTenant: {}, default: longestRetention(options.retention) }, time)
}
