import { auditTables, columnList, eventColumns, shardingKey } from './auditTables.js'
import type { MigrationOptions } from './migrations.js'
import { retentionTtl } from './retentionTtl.js'
import { tableLayout } from './tableLayout.js'

/** What makes one record: the sorting key of `audit_record_latest`, one row per value once merged. */
export const recordKeyColumns = ['tenant', 'object_type', 'object_id', 'object_id2', 'object_id3'] as const

/**
 * The version the newest row of a record is kept by: `occurred_at`, then the event id as a
 * tie-break, so that two changes in the same millisecond give the same answer on every replica
 * and in every merge. ReplacingMergeTree takes one UInt/Date column, so both are packed into a
 * UInt256: the milliseconds since 1900-01-01 (DateTime64's earliest value, so never negative)
 * above the event id's 128 bits.
 *
 * `toUInt128(event_id)` orders ids as their hex text reads. A UUID column compares otherwise
 * (the second half first), so `argMax(x, (occurred_at, event_id))` can pick the other row of a
 * tie: the argMax that agrees with FINAL is `argMax(x, (occurred_at, toUInt128(event_id)))`.
 */
export const recordVersionColumn = 'record_version'
const millisecondsFrom1900To1970 = 2_208_988_800_000
const recordVersion =
  `bitShiftLeft(toUInt256(toUnixTimestamp64Milli(occurred_at) + ${millisecondsFrom1900To1970}), 128)` +
  ' + toUInt256(toUInt128(event_id))'

/**
 * Migration 3: `audit_record_latest`, where the sink writes the events the normalizer marks as
 * temporal logging level 1 (each record's latest change kept, no history)
 * instead of `audit_events`. The same columns
 * as `audit_events`, as eventRow writes them, plus `record_version`, MATERIALIZED: computed by
 * ClickHouse, not inserted, and not in `SELECT *`.
 *
 * - ReplacingMergeTree by `record_version` over the record's key: one row per record once
 *   merged, the newest change (then the highest event id) winning whatever order rows arrived in.
 *   Until a merge a record may have several rows: reads use FINAL, or argMax grouped by the key
 *   (services/clickhouse-sink/docs/storage-schema.md).
 * - Not partitioned by month as the other tables are: merges never cross partitions, so a
 *   record changed in two months would keep a row in each. Without a partition key an insert is
 *   one part, all or nothing.
 * - `object_id2` and `object_id3` are Nullable: a key holding them needs `allow_nullable_key`
 *   (NULL and '' stay two records, as they are two objects).
 * - The same retention as `audit_events`, on the newest change's time and category: a record
 *   untouched for its retention period goes.
 * - Sharded by record on a cluster, as `audit_events`: every row of a record is on one shard, so
 *   FINAL and merges see all of them.
 */
export function recordLatestTableV3(options: MigrationOptions): string[] {
  const layout = tableLayout(options)
  const { onCluster } = layout
  const table = auditTables.recordLatest
  const settings = [...layout.deduplicationSettings, 'allow_nullable_key = 1']
  return [
    `CREATE TABLE IF NOT EXISTS ${layout.stored(table)}${onCluster}
(
${columnList(eventColumns)},
    ${recordVersionColumn} UInt256 MATERIALIZED ${recordVersion}
)
ENGINE = ${layout.engine('ReplacingMergeTree', layout.storedName(table), [recordVersionColumn])}
ORDER BY (${recordKeyColumns.join(', ')})
TTL ${retentionTtl(options.retention, 'toDateTime(occurred_at)')}
SETTINGS ${settings.join(', ')}`,
    ...layout.distributed(table, columnList(eventColumns), shardingKey),
  ]
}
