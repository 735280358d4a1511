import { openStorage } from '@audit-pipeline/storage'
import type { ObservedEvent } from '@audit-pipeline/testing'

export type StoredOutcome = {
  /** The tenant's ticket events in the analysts' view (audit_events_deduplicated): one entry per row. */
  events: ObservedEvent[]
  /** The same in the table itself, before the view merges copies: what the sink wrote. */
  tableRows: number
  /** The events behind each raised alert of `rule` in the view, one entry per event per alert. */
  alerts: ObservedEvent[]
}

/**
 * What the run left in embedded ClickHouse, read from its folder once the pipeline is stopped
 * (one process at a time holds it).
 */
export async function readStoredOutcome(options: {
  dataPath: string
  database: string
  tenant: string
  rule: string
}): Promise<StoredOutcome> {
  const storage = await openStorage({
    kind: 'embedded',
    dataPath: options.dataPath,
    database: options.database,
  })
  try {
    const rows = async <Row>(query: string, params: Record<string, string> = {}) =>
      storage.client
        .query({ query, query_params: { t: options.tenant, ...params }, format: 'JSONEachRow' })
        .then((result) => result.json<Row>())
    const events = await rows<{ event_id: string }>(
      "SELECT event_id FROM audit_events_deduplicated WHERE tenant = {t:String} AND object_type = 'ticket'",
    )
    const [table] = await rows<{ n: string }>(
      "SELECT count() AS n FROM audit_events WHERE tenant = {t:String} AND object_type = 'ticket'",
    )
    const alerts = await rows<{ ids: string }>(
      `SELECT attributes['alert.triggering_event_ids'] AS ids FROM audit_events_deduplicated
       WHERE tenant = {t:String} AND object_type = 'alert'
         AND attributes['alert.status'] = 'raised' AND attributes['alert.rule'] = {rule:String}`,
      { rule: options.rule },
    )
    return {
      events: events.map((row) => ({ eventId: row.event_id })),
      tableRows: Number(table?.n ?? 0),
      alerts: alerts.flatMap((row) => (JSON.parse(row.ids) as string[]).map((eventId) => ({ eventId }))),
    }
  } finally {
    await storage.close()
  }
}
