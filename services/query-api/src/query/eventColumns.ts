import { auditTables, eventColumns } from '@audit-pipeline/clickhouse-schema'

/**
 * The `audit_events` columns answers carry: every column of the event, not where it was read
 * from (`kafka_*` differ between copies of one event and mean nothing to a reader).
 */
export const answerColumns: readonly string[] = eventColumns
  .map(([name]) => name)
  .filter((name) => !name.startsWith('kafka_'))

/** The view that shows each event once (FINAL): what every event answer reads. */
export const eventsView = 'audit_events_deduplicated'

/**
 * Where the sink writes the events of records kept at temporal logging level 1 instead of
 * `audit_events`: each record's latest change, with `audit_events`' columns, one row per record
 * once merged and read with FINAL (packages/clickhouse-schema/src/recordLatestTable.ts). Timeline
 * and state read it beside the trail (eventQueries.ts, recordPageQuery); search, counts and
 * export read the trail only.
 */
export const recordLatestTable = auditTables.recordLatest
