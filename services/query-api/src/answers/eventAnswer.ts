import { eventFieldsOfRow } from '@audit-pipeline/clickhouse-schema'
import { isoFromClickHouse } from '../query/time.js'
import type { StoredEventRow } from './eventRow.js'

/**
 * An event as the JSON answers give it: the canonical event's nested form (schemas/README.md),
 * times as ISO-8601 UTC. Change values and snapshots stay JSON text, as stored.
 */
export function eventAnswer(row: StoredEventRow) {
  return {
    event_id: row.event_id,
    occurred_at: isoFromClickHouse(row.occurred_at),
    recorded_at: isoFromClickHouse(row.recorded_at),
    ...eventFieldsOfRow(row),
  }
}

export type EventAnswer = ReturnType<typeof eventAnswer>
