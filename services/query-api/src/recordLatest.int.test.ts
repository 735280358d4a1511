import { describe, expect, it } from 'vitest'
import { auditTables } from '@audit-pipeline/clickhouse-schema'
import { createEventBuilder } from '@audit-pipeline/producer'
import {
  allEvents,
  bearer,
  insertEvents,
  queryApiFixture,
  ticketEvents,
  type TestKeyName,
} from './testSupport/queryApiFixture.js'

/**
 * Records kept at temporal logging level 1: the sink writes their events to audit_record_latest
 * instead of the trail, and the table keeps the latest change of each once merged. Merges are
 * stopped, so every version stored is still there when the API reads: the answers must pick the
 * newest themselves (FINAL), whichever was stored last.
 */
const build = createEventBuilder(
  { source: { service: 'contracts' }, category: 'business', snapshots: true },
  { now: () => Date.parse('2024-03-20T00:00:00Z'), newEventId: () => '00000000-0000-4000-8000-000000000000' },
)
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
const at = (time: string) => Date.parse(`2024-03-15T${time}:00Z`)

// Every value an analyst must not see carries `5ecret`, or is the actor's IP (hidden from analysts
// by default), so one search of an answer finds any leak.
const actor = { id: 'u-9', ip: '198.51.100.7', session_id: 'session-5ecret' }
const draft = { status: 'draft', iban: 'DE-OLD-5ecret', amount: 100 }
const signed = { status: 'signed', iban: 'DE-NEW-5ecret', amount: 100 }

/** acme's contract K-1, kept at level 1: created, then signed; only the signing should remain. */
const k1Created = build.created({ type: 'contract', id: 'K-1' }, draft, {
  tenant: 'acme',
  actor,
  sensitiveFields: ['iban'],
  eventId: id(701),
  occurredAt: at('10:00'),
})
const k1Signed = build.updated({ type: 'contract', id: 'K-1' }, draft, signed, {
  tenant: 'acme',
  actor,
  sensitiveFields: ['iban'],
  eventId: id(702),
  occurredAt: at('11:00'),
})!
/** witify's contract W-1, kept at level 1. */
const w1Created = build.created(
  { type: 'contract', id: 'W-1' },
  { status: 'draft' },
  { tenant: 'witify', actor: { id: 'w-1' }, eventId: id(703), occurredAt: at('10:30') },
)
/** acme's contract K-2, whose level changed: created in the trail, its later change kept at level 1. */
const k2Created = build.created(
  { type: 'contract', id: 'K-2' },
  { status: 'draft' },
  { tenant: 'acme', actor: { id: 'u-9' }, eventId: id(704), occurredAt: at('09:00') },
)
const k2Signed = build.updated(
  { type: 'contract', id: 'K-2' },
  { status: 'draft' },
  { status: 'signed' },
  { tenant: 'acme', actor: { id: 'u-9' }, eventId: id(705), occurredAt: at('12:00') },
)!

async function recordLatestFixture() {
  const fixture = await queryApiFixture({ events: [...allEvents, k2Created] })
  const { storage, database } = fixture
  await storage.client.command({ query: `SYSTEM STOP MERGES ${database}.${auditTables.recordLatest}` })
  // The newest version first, the one it replaces last: arrival order must not decide.
  await insertEvents(storage, [k1Signed, w1Created, k2Signed], auditTables.recordLatest)
  await insertEvents(storage, [k1Created], auditTables.recordLatest)
  return fixture
}

type App = Awaited<ReturnType<typeof queryApiFixture>>['app']

type Event = {
  event_id: string
  action: { name: string }
  actor: { ip: string | null; session_id: string | null }
  changes: { path: string; new_value: string | null }[]
}
type Timeline = { events: Event[]; next_cursor: string | null; kept: string }
type State = {
  tenant: string
  events: number
  kept: string
  first_event_at: string
  last_event_at: string
  fields: { path: string; value: unknown; event_id: string }[]
}

async function get(app: App, url: string, key: TestKeyName) {
  const response = await app.inject({ url, headers: bearer(key) })
  return { status: response.statusCode, body: response.body }
}

async function read<T>(app: App, url: string, key: TestKeyName): Promise<T> {
  const { status, body } = await get(app, url, key)
  expect(status, `${key} ${url}: ${body}`).toBe(200)
  return JSON.parse(body) as T
}

const values = (state: State) => Object.fromEntries(state.fields.map((field) => [field.path, field.value]))

async function sql(app: App, key: TestKeyName, statement: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/sql',
    headers: bearer(key),
    payload: { sql: statement },
  })
  expect(response.statusCode, `${key} ${statement}: ${response.body}`).toBe(200)
  return response.json<{ rows: Record<string, unknown>[] }>().rows
}

async function storedVersions(fixture: Awaited<ReturnType<typeof recordLatestFixture>>, objectId: string) {
  const result = await fixture.storage.client.query({
    query: `SELECT count() AS n FROM ${fixture.database}.${auditTables.recordLatest} WHERE object_id = {id:String}`,
    query_params: { id: objectId },
    format: 'JSONEachRow',
  })
  return Number((await result.json<{ n: string }>())[0]?.n)
}

describe('records kept at temporal logging level 1 (audit_record_latest)', () => {
  it("answer a record's timeline and state from its latest change, the newest version winning before any merge", async () => {
    const fixture = await recordLatestFixture()
    const { app } = fixture
    expect(await storedVersions(fixture, 'K-1')).toBe(2)
    for (const key of ['auditor', 'acmeAuditor'] as const) {
      const timeline = await read<Timeline>(app, '/v1/objects/contract/K-1/timeline', key)
      expect(timeline.kept).toBe('latest')
      expect(timeline.next_cursor).toBeNull()
      expect(timeline.events.map((event) => [event.event_id, event.action.name])).toEqual([
        [k1Signed.event_id, 'contract.update'],
      ])
      expect(timeline.events[0]!.actor.ip).toBe('198.51.100.7')
      expect(timeline.events[0]!.changes).toContainEqual(
        expect.objectContaining({ path: 'iban', new_value: '"DE-NEW-5ecret"' }),
      )

      const state = await read<State>(app, '/v1/objects/contract/K-1/state', key)
      expect(state).toMatchObject({
        tenant: 'acme',
        events: 1,
        kept: 'latest',
        first_event_at: '2024-03-15T11:00:00.000Z',
        last_event_at: '2024-03-15T11:00:00.000Z',
      })
      expect(values(state)).toEqual({ iban: 'DE-NEW-5ecret', status: 'signed' })
    }
    // A time range does not bring back the version the newest replaced: FINAL before WHERE.
    const earlier = await read<Timeline>(
      app,
      '/v1/objects/contract/K-1/timeline?until=2024-03-15T10:30:00Z',
      'auditor',
    )
    expect(earlier).toEqual({ events: [], next_cursor: null, kept: 'latest' })
    const stateEarlier = await get(app, '/v1/objects/contract/K-1/state?at=2024-03-15T10:30:00Z', 'auditor')
    expect(stateEarlier.status).toBe(404)
    expect(stateEarlier.body).toContain('kept at temporal logging level 1')
    // Still unmerged: the answers chose, not a merge.
    expect(await storedVersions(fixture, 'K-1')).toBe(2)
  })

  it('are shown to analysts as any event is: sensitive values redacted, hidden actor details null', async () => {
    const { app } = await recordLatestFixture()
    for (const key of ['analyst', 'acmeAnalyst'] as const) {
      const timeline = await get(app, '/v1/objects/contract/K-1/timeline', key)
      const state = await get(app, '/v1/objects/contract/K-1/state', key)
      for (const { status, body } of [timeline, state]) {
        expect(status, body).toBe(200)
        expect(body).not.toContain('5ecret')
        expect(body).not.toContain('198.51.100.7')
      }
      const page = JSON.parse(timeline.body) as Timeline
      expect(page.kept).toBe('latest')
      expect(page.events.map((event) => event.event_id)).toEqual([k1Signed.event_id])
      expect(page.events[0]!.actor).toMatchObject({ ip: null, session_id: null })
      expect(page.events[0]!.changes).toContainEqual(
        expect.objectContaining({ path: 'iban', new_value: '"[redacted]"' }),
      )
      expect(values(JSON.parse(state.body) as State)).toEqual({ iban: '[redacted]', status: 'signed' })
    }
  })

  it("keep a tenant-restricted key to its tenants, without telling another tenant's record is kept", async () => {
    const { app } = await recordLatestFixture()
    const auditors = await read<Timeline>(app, '/v1/objects/contract/W-1/timeline', 'auditor')
    expect(auditors.events.map((event) => event.event_id)).toEqual([w1Created.event_id])
    for (const key of ['acmeAuditor', 'acmeAnalyst'] as const) {
      expect(await read<Timeline>(app, '/v1/objects/contract/W-1/timeline', key)).toEqual({
        events: [],
        next_cursor: null,
        kept: 'all',
      })
      const state = await get(app, '/v1/objects/contract/W-1/state', key)
      expect(state.status).toBe(404)
      expect(state.body).not.toContain('temporal')
      expect((await get(app, '/v1/objects/contract/W-1/timeline?tenant=witify', key)).status).toBe(403)
    }
  })

  it('show a record whose level changed with its trail and its latest change, one keyset over both', async () => {
    const { app } = await recordLatestFixture()
    const first = await read<Timeline>(app, '/v1/objects/contract/K-2/timeline?limit=1', 'auditor')
    expect(first.events.map((event) => event.event_id)).toEqual([k2Created.event_id])
    expect(first.kept).toBe('latest')
    expect(first.next_cursor).not.toBeNull()
    const second = await read<Timeline>(
      app,
      `/v1/objects/contract/K-2/timeline?limit=1&cursor=${first.next_cursor}`,
      'auditor',
    )
    expect(second.events.map((event) => event.event_id)).toEqual([k2Signed.event_id])
    expect(second.next_cursor).toBeNull()
    const state = await read<State>(app, '/v1/objects/contract/K-2/state', 'auditor')
    expect(state).toMatchObject({ events: 2, kept: 'latest' })
    expect(values(state)).toEqual({ status: 'signed' })
  })

  it('leave a record of the trail as it was, and search to the trail', async () => {
    const { app } = await recordLatestFixture()
    const timeline = await read<Timeline>(app, '/v1/objects/ticket/9548-B1/timeline?tenant=witify', 'auditor')
    expect(timeline.kept).toBe('all')
    expect(timeline.events.map((event) => event.event_id)).toEqual(
      ticketEvents.map((event) => event.event_id),
    )
    const state = await read<State>(app, '/v1/objects/ticket/9548-B1/state', 'auditor')
    expect(state).toMatchObject({ tenant: 'witify', events: 3, kept: 'all' })
    // Search reads the trail: of the contracts, only K-2's event there.
    const search = await read<Timeline>(app, '/v1/events?object_type=contract', 'auditor')
    expect(search.events.map((event) => event.event_id)).toEqual([k2Created.event_id])
  })

  it('are readable with SQL, FINAL or argMax, each key seeing its tenants only', async () => {
    const { app, database } = await recordLatestFixture()
    expect(
      await sql(
        app,
        'auditor',
        'SELECT tenant, object_id, event_id FROM audit_record_latest FINAL ORDER BY tenant, object_id',
      ),
    ).toEqual([
      { tenant: 'acme', object_id: 'K-1', event_id: k1Signed.event_id },
      { tenant: 'acme', object_id: 'K-2', event_id: k2Signed.event_id },
      { tenant: 'witify', object_id: 'W-1', event_id: w1Created.event_id },
    ])
    expect(
      await sql(
        app,
        'auditor',
        `SELECT object_id, argMax(event_id, (occurred_at, toUInt128(event_id))) AS latest, count() AS versions
FROM audit_record_latest WHERE tenant = 'acme'
GROUP BY tenant, object_type, object_id, object_id2, object_id3 ORDER BY object_id`,
      ),
    ).toEqual([
      { object_id: 'K-1', latest: k1Signed.event_id, versions: '2' },
      { object_id: 'K-2', latest: k2Signed.event_id, versions: '1' },
    ])
    const tenantsSeen = async (statement: string) =>
      (await sql(app, 'acmeAuditor', statement)).map((row) => row['tenant'])
    for (const table of ['audit_record_latest', `${database}.audit_record_latest`]) {
      expect(await tenantsSeen(`SELECT DISTINCT tenant FROM ${table} FINAL`), table).toEqual(['acme'])
      expect(await tenantsSeen(`SELECT DISTINCT tenant FROM ${table}`), table).toEqual(['acme'])
    }
    expect(
      await tenantsSeen(
        "SELECT DISTINCT tenant FROM (SELECT tenant FROM audit_record_latest WHERE tenant = 'witify' OR 1 = 1 UNION ALL SELECT tenant FROM audit_events)",
      ),
    ).toEqual(['acme'])
  })

  it('are described in the OpenAPI document: kept on timeline and state, the table among SQL tables', async () => {
    const { app } = await queryApiFixture({ events: [] })
    const document = (await app.inject({ url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { description?: string }>>
    }>()
    const description = (path: string, method: string) => document.paths[path]?.[method]?.description ?? ''
    for (const path of ['timeline', 'state']) {
      expect(description(`/v1/objects/{object_type}/{object_id}/${path}`, 'get'), path).toContain(
        '`kept` is `latest` when the record is kept at temporal logging level 1',
      )
    }
    expect(description('/v1/events', 'get')).toContain('Searches the trail')
    expect(description('/v1/sql', 'post')).toMatch(/Tables: .*audit_record_latest\./)
  })
})
