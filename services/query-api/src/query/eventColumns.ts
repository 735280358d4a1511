import { eventColumns } from '@audit-pipeline/clickhouse-schema'

/**
 * The `audit_events` columns answers carry: every column of the event, not where it was read
 * from (`kafka_*` differ between copies of one event and mean nothing to a reader).
 */
export const answerColumns: readonly string[] = eventColumns
  .map(([name]) => name)
  .filter((name) => !name.startsWith('kafka_'))

/** The view that shows each event once (FINAL): what every event answer reads. */
export const eventsView = 'audit_events_deduplicated'
