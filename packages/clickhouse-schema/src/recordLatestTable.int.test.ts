import { describe, expect, it, onTestFinished } from 'vitest'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import type { Storage } from '@audit-pipeline/storage'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { auditTables } from './auditTables.js'
import { eventRow, type AuditEventRow } from './eventRow.js'
import { defaultRetentionPolicy } from './retention.js'
import { runMigrations } from './runMigrations.js'

const topic = 'audit.normalized'
const base = Date.parse('2024-03-16T13:12:00Z')

/** A change of ticket `objectId` (id2 `objectId2`) at `base + ms`, setting its priority to `priority`. */
function change(
  eventId: string,
  objectId: string,
  ms: number,
  priority: string,
  objectId2: string | null = null,
): AuditEvent {
  const draft = parseEventJson({
    event_id: eventId,
    occurred_at: new Date(base + ms).toISOString(),
    tenant: 'witify',
    source: { service: 'helpdesk-api' },
    actor: { type: 'user', id: 'u-1' },
    action: { kind: 'update', name: 'ticket.update' },
    category: 'business',
    object: { type: 'ticket', id: objectId, ...(objectId2 !== null && { id2: objectId2 }) },
    changes: [{ path: 'priority', new_value: priority }],
  })
  return { ...draft, recorded_at: draft.occurred_at + 5 }
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

async function latestTable(): Promise<{ storage: Storage; table: string }> {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const { storage, database } = opened
  await runMigrations(storage, { database, retention: defaultRetentionPolicy })
  const table = `${database}.${auditTables.recordLatest}`
  // Unmerged, superseded rows stay: what FINAL and argMax must see through.
  await storage.client.command({ query: `SYSTEM STOP MERGES ${table}` })
  return { storage, table }
}

/** Each event as one insert of its own (a part each), in the order given. */
async function insertEach(storage: Storage, table: string, events: readonly AuditEvent[]) {
  for (const [offset, event] of events.entries()) {
    await storage.client.insert({
      table,
      values: [eventRow(event, { topic, partition: 0, offset: String(offset) })],
      format: 'JSONEachRow',
    })
  }
}

async function select<Row>(storage: Storage, query: string): Promise<Row[]> {
  const result = await storage.client.query({ query, format: 'JSONEachRow' })
  return result.json<Row>()
}

describe('audit_record_latest', () => {
  it('keeps the newest change of each record, whatever order the changes arrived in', async () => {
    const { storage, table } = await latestTable()
    // 9548-B1 changed three times, the newest arriving second; 9548-B1 with an id2 is another record.
    const newest = change(id(2), '9548-B1', 3_000, 'Normal')
    await insertEach(storage, table, [
      change(id(1), '9548-B1', 1_000, 'Normal'),
      newest,
      change(id(3), '9548-B1', 2_000, 'Urgent'),
      change(id(4), '9548-B1', 500, 'Low', 'sub-1'),
    ])
    expect(await select(storage, `SELECT count() AS n FROM ${table}`)).toEqual([{ n: '4' }])

    const final = await select<AuditEventRow>(
      storage,
      `SELECT * FROM ${table} FINAL ORDER BY object_id2 NULLS FIRST`,
    )
    expect(final.map((row) => row.event_id)).toEqual([id(2), id(4)])
    // The row as eventRow wrote it: the same columns as audit_events, the version not among them.
    expect(final[0]).toEqual(eventRow(newest, { topic, partition: 0, offset: '1' }))

    const argMax = await select<{ event_id: string }>(
      storage,
      `SELECT argMax(event_id, (occurred_at, toUInt128(event_id))) AS event_id FROM ${table}
       GROUP BY tenant, object_type, object_id, object_id2, object_id3 ORDER BY event_id`,
    )
    expect(argMax.map((row) => row.event_id)).toEqual([id(2), id(4)])

    await storage.client.command({ query: `SYSTEM START MERGES ${table}` })
    await storage.client.command({ query: `OPTIMIZE TABLE ${table} FINAL` })
    const merged = await select<{ event_id: string }>(
      storage,
      `SELECT event_id FROM ${table} ORDER BY event_id`,
    )
    expect(merged.map((row) => row.event_id)).toEqual([id(2), id(4)])
  })

  it('breaks a tie in occurred_at by event id, the same way in FINAL and in the documented argMax', async () => {
    const { storage, table } = await latestTable()
    // A UUID column compares these two the other way round (second half first): the argMax
    // over (occurred_at, event_id) would pick the other row.
    const low = '00000000-0000-4000-8000-000000000001'
    const high = '10000000-0000-4000-8000-000000000000'
    await insertEach(storage, table, [change(high, 'T-1', 0, 'Urgent'), change(low, 'T-1', 0, 'Normal')])
    const [final] = await select<{ event_id: string }>(storage, `SELECT event_id FROM ${table} FINAL`)
    const [argMax] = await select<{ event_id: string }>(
      storage,
      `SELECT argMax(event_id, (occurred_at, toUInt128(event_id))) AS event_id FROM ${table}`,
    )
    expect(final?.event_id).toBe(high)
    expect(argMax?.event_id).toBe(high)
  })

  it('stores a batch retried with its deduplication token once', async () => {
    const { storage, table } = await latestTable()
    for (let attempt = 0; attempt < 2; attempt++) {
      await storage.client.insert({
        table,
        values: [eventRow(change(id(1), 'T-1', 0, 'Normal'), { topic, partition: 0, offset: '0' })],
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: `${topic}-0-0-0` },
      })
    }
    expect(await select(storage, `SELECT count() AS n FROM ${table}`)).toEqual([{ n: '1' }])
  })

  it("deletes a record once its newest change has been kept for its category's retention", async () => {
    const { storage, table } = await latestTable()
    const daysAgo = (days: number) => Date.now() - days * 86_400_000
    const at = (event: AuditEvent, category: string, when: number): AuditEvent => ({
      ...event,
      category,
      occurred_at: when,
      recorded_at: when,
    })
    // debug is kept 7 days.
    await insertEach(storage, table, [
      at(change(id(1), 'T-old', 0, 'Normal'), 'debug', daysAgo(30)),
      at(change(id(2), 'T-new', 0, 'Normal'), 'debug', daysAgo(1)),
    ])
    await storage.client.command({ query: `SYSTEM START MERGES ${table}` })
    await storage.client.command({ query: `OPTIMIZE TABLE ${table} FINAL` })
    const kept = await select<{ object_id: string }>(storage, `SELECT object_id FROM ${table}`)
    expect(kept).toEqual([{ object_id: 'T-new' }])
  })
})
