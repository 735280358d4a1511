import { integrityRetentionStatements } from './integrityTables.js'
import type { MigrationOptions } from './migrations.js'
import { retentionTtl } from './retentionTtl.js'
import { tableLayout } from './tableLayout.js'

/** The names analysts and the sink use, on one server and on a cluster alike. */
export const auditTables = {
  /** Every event as delivered, one row per copy: the sink inserts here. */
  events: 'audit_events',
  /** `audit_events` with each event once, even before background merges (FINAL). */
  eventsDeduplicated: 'audit_events_deduplicated',
  /** One row per field change, ordered for "every change of this field". */
  changes: 'audit_changes',
  /** Events delivered per tenant, hour and action (a copy that escaped deduplication counts again). */
  actionsHourly: 'audit_actions_hourly',
  /**
   * The newest change of each record kept at temporal logging level 1, which keeps no history: one row per record once merged, read with FINAL or argMax (recordLatestTable.ts).
   */
  recordLatest: 'audit_record_latest',
} as const

const time = "DateTime64(3, 'UTC')"
const text = 'Nullable(String)'
const label = 'LowCardinality(String)'

/**
 * `audit_events`' columns and types, in order, as eventRow writes them (see AuditEventRow); also
 * `audit_record_latest`'s, which holds the same rows.
 */
export const eventColumns: readonly (readonly [name: string, type: string])[] = [
  ['event_id', 'UUID'],
  ['occurred_at', time],
  ['recorded_at', time],
  ['tenant', label],
  ['source_service', label],
  ['source_instance', 'LowCardinality(Nullable(String))'],
  ['source_version', 'LowCardinality(Nullable(String))'],
  ['actor_type', label],
  ['actor_id', 'String'],
  ['actor_display_name', text],
  ['actor_roles', 'Array(LowCardinality(String))'],
  ['actor_ip', text],
  ['actor_user_agent', text],
  ['actor_session_id', text],
  ['on_behalf_of_type', 'LowCardinality(Nullable(String))'],
  ['on_behalf_of_id', text],
  ['on_behalf_of_display_name', text],
  ['on_behalf_of_roles', 'Array(LowCardinality(String))'],
  ['on_behalf_of_ip', text],
  ['on_behalf_of_user_agent', text],
  ['on_behalf_of_session_id', text],
  ['action_kind', label],
  ['action_name', label],
  ['category', label],
  ['object_type', label],
  ['object_id', 'String'],
  ['object_id2', text],
  ['object_id3', text],
  ['object_label', text],
  [
    'changes',
    'Array(Tuple(path String, old_value Nullable(String), new_value Nullable(String), value_type LowCardinality(String)))',
  ],
  ['before', text],
  ['after', text],
  ['outcome_status', label],
  ['outcome_reason', text],
  ['severity', label],
  ['correlation_trace_id', text],
  ['correlation_request_id', text],
  ['attributes', 'Map(LowCardinality(String), String)'],
  ['sensitive_fields', 'Array(String)'],
  ['kafka_topic', label],
  ['kafka_partition', 'UInt32'],
  ['kafka_offset', 'UInt64'],
]

const changeColumns: readonly (readonly [name: string, type: string])[] = [
  ['tenant', label],
  ['object_type', label],
  ['path', 'String'],
  ['occurred_at', time],
  ['event_id', 'UUID'],
  ['object_id', 'String'],
  ['object_id2', text],
  ['object_id3', text],
  ['category', label],
  ['action_name', label],
  ['actor_type', label],
  ['actor_id', 'String'],
  ['actor_display_name', text],
  ['actor_roles', 'Array(LowCardinality(String))'],
  ['old_value', text],
  ['new_value', text],
  ['value_type', label],
]

const hourlyColumns: readonly (readonly [name: string, type: string])[] = [
  ['tenant', label],
  ['hour', "DateTime('UTC')"],
  ['category', label],
  ['action_kind', label],
  ['action_name', label],
  ['outcome_status', label],
  ['events', 'UInt64'],
]

/** Columns as the body of a CREATE TABLE, one per line. */
export const columnList = (columns: readonly (readonly [string, string])[]) =>
  columns.map(([name, type]) => `    ${name} ${type}`).join(',\n')

/**
 * The columns of the `by_actor` projection: what "everything one actor did" lists. A query reading
 * only these (and filtering on them) reads the projection, stored in actor order; one reading any
 * other column reads the table. Not `SELECT *`, which would double the table's size.
 */
export const byActorColumns = [
  'tenant',
  'actor_id',
  'occurred_at',
  'event_id',
  'action_kind',
  'action_name',
  'category',
  'object_type',
  'object_id',
  'outcome_status',
] as const

/** The sharding key on a cluster: all copies and all changes of one record live on one shard. */
export const shardingKey = 'cityHash64(tenant, object_type, object_id)'

/**
 * Migration 1: the events table, the per-change table and the hourly counts with the views that
 * fill them, and the deduplicated view. See services/clickhouse-sink/docs/storage-schema.md for
 * why each part is shaped so.
 */
export function auditTablesV1(options: MigrationOptions): string[] {
  const layout = tableLayout(options)
  const { onCluster } = layout
  const events = layout.stored(auditTables.events)
  const changes = layout.stored(auditTables.changes)
  const hourly = layout.stored(auditTables.actionsHourly)
  const settings = (...extra: string[]) => {
    const all = [...layout.deduplicationSettings, ...extra]
    return all.length === 0 ? '' : `\nSETTINGS ${all.join(', ')}`
  }
  const ttl = (timeColumn: string) => `TTL ${retentionTtl(options.retention, timeColumn)}`

  return [
    // The skip index and the projection serve the session and actor queries, which name no
    // record; a bloom filter on actor_id skipped nothing (measured in
    // services/clickhouse-sink/docs/storage-schema.md).
    `CREATE TABLE IF NOT EXISTS ${events}${onCluster}
(
${columnList(eventColumns)},
    INDEX actor_session_id_bloom actor_session_id TYPE bloom_filter GRANULARITY 1,
    PROJECTION by_actor (
        SELECT ${byActorColumns.join(', ')}
        ORDER BY (tenant, actor_id, occurred_at)
    )
)
ENGINE = ${layout.engine('ReplacingMergeTree', layout.storedName(auditTables.events))}
PARTITION BY toYYYYMM(occurred_at)
PRIMARY KEY (tenant, object_type, object_id, occurred_at)
ORDER BY (tenant, object_type, object_id, occurred_at, event_id)
${ttl('toDateTime(occurred_at)')}${settings("deduplicate_merge_projection_mode = 'rebuild'")}`,
    ...layout.distributed(auditTables.events, columnList(eventColumns), shardingKey),

    `CREATE TABLE IF NOT EXISTS ${changes}${onCluster}
(
${columnList(changeColumns)}
)
ENGINE = ${layout.engine('ReplacingMergeTree', layout.storedName(auditTables.changes))}
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (tenant, object_type, path, occurred_at, event_id)
${ttl('toDateTime(occurred_at)')}${settings()}`,
    ...layout.distributed(auditTables.changes, columnList(changeColumns), shardingKey),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${layout.queried(`${auditTables.changes}_mv`)}${onCluster} TO ${changes} AS
SELECT
    tenant, object_type, change.path AS path, occurred_at, event_id, object_id, object_id2, object_id3,
    category, action_name, actor_type, actor_id, actor_display_name, actor_roles,
    change.old_value AS old_value, change.new_value AS new_value, change.value_type AS value_type
FROM ${events}
ARRAY JOIN changes AS change`,

    `CREATE TABLE IF NOT EXISTS ${hourly}${onCluster}
(
${columnList(hourlyColumns)}
)
ENGINE = ${layout.engine('SummingMergeTree', layout.storedName(auditTables.actionsHourly))}
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, hour, category, action_kind, action_name, outcome_status)
${ttl('hour')}${settings()}`,
    ...layout.distributed(auditTables.actionsHourly, columnList(hourlyColumns)),
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${layout.queried(`${auditTables.actionsHourly}_mv`)}${onCluster} TO ${hourly} AS
SELECT
    tenant, toStartOfHour(occurred_at) AS hour, category, action_kind, action_name, outcome_status,
    count() AS events
FROM ${events}
GROUP BY tenant, hour, category, action_kind, action_name, outcome_status`,

    // Copies of one event are the same row but for the kafka_* columns, so filtering them before
    // FINAL picks the same events as after it, and reads only matching rows' other columns.
    `CREATE VIEW IF NOT EXISTS ${layout.queried(auditTables.eventsDeduplicated)}${onCluster} AS
SELECT * FROM ${layout.queried(auditTables.events)} FINAL
SETTINGS optimize_move_to_prewhere_if_final = 1`,
  ]
}

/**
 * The statements that make existing tables delete by `options.retention`. Tables take the policy
 * in force when they were created; a later change of SINK_RETENTION takes effect only through
 * these (services/clickhouse-sink/docs/storage-schema.md, "Changing retention"). Each runs as a
 * mutation that applies the new TTL to existing parts (`materialize_ttl_after_modify`, on by
 * default), rewriting the parts holding rows that expire: an operator's decision on a big table,
 * so the sink does not run them.
 */
export function retentionStatements(options: MigrationOptions): string[] {
  const layout = tableLayout(options)
  const modify = (table: string, timeColumn: string) =>
    `ALTER TABLE ${layout.stored(table)}${layout.onCluster}\nMODIFY TTL ${retentionTtl(options.retention, timeColumn)}`
  return [
    modify(auditTables.events, 'toDateTime(occurred_at)'),
    modify(auditTables.changes, 'toDateTime(occurred_at)'),
    modify(auditTables.actionsHourly, 'hour'),
    modify(auditTables.recordLatest, 'toDateTime(occurred_at)'),
    ...integrityRetentionStatements(options),
  ]
}
