import { describe, expect, it } from 'vitest'
import {
  alert,
  allEvents,
  bearer,
  emailChange,
  queryApiFixture,
  signIns,
  ticketEvents,
  type TestKeyName,
} from './testSupport/queryApiFixture.js'

type EventsPage = {
  events: {
    event_id: string
    tenant: string
    changes: unknown[]
    before: string | null
    after: string | null
  }[]
  next_cursor: string | null
}

const ids = (page: EventsPage) => page.events.map((event) => event.event_id)

describe('GET /v1/events', () => {
  it('lists events newest first, each filter narrowing the answer', async () => {
    const { app } = await queryApiFixture()
    const search = async (query: string) => {
      const response = await app.inject({ url: `/v1/events?${query}`, headers: bearer('auditor') })
      expect(response.statusCode, response.body).toBe(200)
      return ids(response.json<EventsPage>())
    }
    const byTime = [...allEvents].sort((a, b) => b.occurred_at - a.occurred_at || 0)
    expect(new Set(await search('limit=100'))).toEqual(new Set(byTime.map((event) => event.event_id)))
    expect(await search('tenant=witify')).toEqual([...ticketEvents].reverse().map((e) => e.event_id))
    expect(await search('actor=u-1002')).toEqual([ticketEvents[1]!.event_id])
    expect(await search('action=session.sign_in&order=asc')).toEqual(signIns.map((e) => e.event_id))
    expect(await search('category=security&object_type=alert')).toEqual([alert.event_id])
    expect(await search('object_type=customer&object_id=c-1')).toEqual([emailChange.event_id])
    expect(await search('outcome=failure')).toEqual([signIns[5]!.event_id])
    expect(await search('action_kind=update&tenant=witify')).toEqual(
      [ticketEvents[2]!, ticketEvents[1]!].map((e) => e.event_id),
    )
    expect(await search('since=2024-03-15T11:01:00Z&until=2024-03-15T11:04:00Z&order=asc')).toEqual(
      signIns.slice(1, 5).map((e) => e.event_id),
    )
    expect(await search('since=2024-03-16')).toEqual([ticketEvents[2]!.event_id])
    // The reference's other identifiers: session, address, correlation and source.
    const created = [ticketEvents[0]!.event_id]
    expect(await search('session_id=s-88a1')).toEqual(created)
    expect(await search('ip=203.0.113.10')).toEqual(created)
    expect(await search('request_id=req-5b21')).toEqual(created)
    expect(await search('trace_id=req-5b21')).toEqual([])
    expect(await search('source_service=helpdesk-api&order=asc')).toEqual(ticketEvents.map((e) => e.event_id))
    expect(await search('source_service=crm&object_type=customer')).toEqual([emailChange.event_id])
    expect(await search('object_type=alert&object_id2=failed-sign-ins')).toEqual([alert.event_id])
    expect(await search('object_type=alert&object_id2=other')).toEqual([])
  })

  it("keeps the events of records created, or last updated, in a range (the reference's Audit_Query bounds)", async () => {
    const { app } = await queryApiFixture()
    const search = async (query: string, key: Parameters<typeof bearer>[0] = 'auditor') => {
      const response = await app.inject({ url: `/v1/events?${query}&order=asc`, headers: bearer(key) })
      expect(response.statusCode, response.body).toBe(200)
      return ids(response.json<EventsPage>())
    }
    const ticket = ticketEvents.map((e) => e.event_id)
    // Ticket 9548-B1: created 14 March 09:45, last updated 16 March 13:12. Customer c-1: updated
    // 15 March, never created here. Sign-ins and the alert: neither.
    expect(await search('created_since=2024-03-14&created_until=2024-03-15')).toEqual(ticket)
    expect(await search('created_since=2024-03-14T09:45:00.001Z')).toEqual([])
    expect(await search('updated_since=2024-03-16')).toEqual(ticket)
    expect(await search('updated_since=2024-03-15&updated_until=2024-03-16')).toEqual([emailChange.event_id])
    expect(await search('updated_until=2024-03-16&object_type=ticket')).toEqual([])
    // Within those records, the other filters still apply.
    expect(await search('created_since=2024-03-14&action_kind=update&actor=u-1003')).toEqual([ticket[2]!])
    // Every record one user updated in a time range.
    expect(await search('actor=u-1003&action_kind=update&since=2024-03-16&until=2024-03-17')).toEqual([
      ticket[2]!,
    ])
    // A tenant-restricted key finds no other tenant's records, whatever their dates.
    expect(await search('created_since=2024-03-01', 'acmeAuditor')).toEqual([])
  })

  it('finds events by the field they changed, and the value it changed from and to', async () => {
    const { app } = await queryApiFixture()
    const search = async (query: string, key: Parameters<typeof bearer>[0] = 'auditor') => {
      const response = await app.inject({ url: `/v1/events?${query}&order=asc`, headers: bearer(key) })
      expect(response.statusCode, response.body).toBe(200)
      return ids(response.json<EventsPage>())
    }
    const [created, raised, lowered] = ticketEvents.map((e) => e.event_id)
    // The reference's question: who lowered ticket 9548-B1's priority from Urgent to Normal?
    expect(await search('changed=priority&from=Urgent&to=Normal')).toEqual([lowered])
    expect(await search('changed=priority&to=Urgent')).toEqual([raised])
    expect(await search('changed=priority')).toEqual([created, raised, lowered])
    expect(await search('changed=priority&from=Normal&to=Normal')).toEqual([])
    expect(await search('changed=solution')).toEqual([lowered])
    // An auditor finds a sensitive value; an analyst, who may not see it, cannot search by it
    // (nor by any value of an event that marks a field sensitive), but finds the change itself.
    expect(await search('changed=email&to=rita@new.example')).toEqual([emailChange.event_id])
    expect(await search('changed=email&to=rita@new.example', 'analyst')).toEqual([])
    expect(await search('changed=email&from=rita@old.example', 'analyst')).toEqual([])
    expect(await search('changed=tier&to=platinum', 'analyst')).toEqual([])
    expect(await search('changed=email', 'analyst')).toEqual([emailChange.event_id])
    const valueAlone = await app.inject({ url: '/v1/events?to=Normal', headers: bearer('auditor') })
    expect(valueAlone.statusCode).toBe(400)
    expect(valueAlone.json<{ message: string }>().message).toContain('name the field with changed')
  })

  it('pages through with the cursor: every event once, in order, ties on time broken by event id', async () => {
    const { app } = await queryApiFixture()
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = `action=session.sign_in&order=asc&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const response = await app.inject({ url: `/v1/events?${query}`, headers: bearer('auditor') })
      expect(response.statusCode).toBe(200)
      const page = response.json<EventsPage>()
      seen.push(...ids(page))
      cursor = page.next_cursor
      pages++
    } while (cursor && pages < 10)
    expect(seen).toEqual(signIns.map((e) => e.event_id))
    expect(pages).toBe(3)

    const newestFirst: string[] = []
    cursor = null
    do {
      const query: string = `action=session.sign_in&limit=4${cursor ? `&cursor=${cursor}` : ''}`
      const page = (
        await app.inject({ url: `/v1/events?${query}`, headers: bearer('auditor') })
      ).json<EventsPage>()
      newestFirst.push(...ids(page))
      cursor = page.next_cursor
    } while (cursor)
    expect(newestFirst).toEqual(signIns.map((e) => e.event_id).reverse())
  })

  it('refuses a cursor it did not give out, an unknown filter and a time without its zone', async () => {
    const { app } = await queryApiFixture()
    const status = async (query: string) =>
      (await app.inject({ url: `/v1/events?${query}`, headers: bearer('auditor') })).json<{
        message: string
      }>()
    expect((await status('cursor=abc')).message).toContain('cursor: not a cursor this API gave out')
    expect((await status('actor_id=u-1')).message).toMatch(/actor_id|Unrecognized/i)
    expect((await status('since=2024-03-15T10:00:00')).message).toContain('expected an ISO-8601 date')
    expect((await status('limit=100000')).message).toContain('limit')
  })
})

describe('GET /v1/objects/:type/:id/timeline', () => {
  it("gives a record's events oldest first, with their changes", async () => {
    const { app } = await queryApiFixture()
    const response = await app.inject({
      url: '/v1/objects/ticket/9548-B1/timeline?tenant=witify',
      headers: bearer('auditor'),
    })
    expect(response.statusCode).toBe(200)
    const page = response.json<{
      events: {
        action: { name: string }
        actor: { display_name: string }
        occurred_at: string
        changes: { path: string; new_value: string }[]
      }[]
    }>()
    expect(page.events.map((e) => [e.occurred_at, e.actor.display_name, e.action.name])).toEqual([
      ['2024-03-14T09:45:00.000Z', 'Alex Mercer', 'ticket.create'],
      ['2024-03-15T11:17:00.000Z', 'Jack Peltrow', 'ticket.update'],
      ['2024-03-16T13:12:00.000Z', 'Stefany Ilds', 'ticket.update'],
    ])
    expect(page.events[1]!.changes).toEqual([
      { path: 'priority', old_value: '"Normal"', new_value: '"Urgent"', value_type: 'string' },
    ])
  })
})

describe('GET /v1/counts', () => {
  it('counts by action and hour from the hourly table, and by actor from the events', async () => {
    const { app } = await queryApiFixture()
    const counts = async (query: string) => {
      const response = await app.inject({ url: `/v1/counts?${query}`, headers: bearer('auditor') })
      expect(response.statusCode, response.body).toBe(200)
      return response.json<{
        groups: Record<string, unknown>[]
        source: string
        exact: boolean
        truncated: boolean
      }>()
    }
    const hourly = await counts('tenant=acme&by=action&bucket=hour&since=2024-03-15T11:00:00Z')
    expect(hourly.source).toBe('audit_actions_hourly')
    expect(hourly.exact).toBe(false)
    expect(hourly.groups).toEqual([
      { bucket: '2024-03-15T11:00:00.000Z', action: 'alert.raised', events: 1 },
      { bucket: '2024-03-15T11:00:00.000Z', action: 'session.sign_in', events: 6 },
    ])
    const byActor = await counts('by=actor&bucket=none&tenant=acme')
    expect(byActor.source).toBe('audit_events_deduplicated')
    expect(byActor.groups).toEqual([
      { actor: 'audit-alerting', events: 1 },
      { actor: 'u-7', events: 7 },
    ])
    const exactByDay = await counts('by=action&bucket=day&exact=true&tenant=witify')
    expect(exactByDay.source).toBe('audit_events_deduplicated')
    expect(exactByDay.groups).toEqual([
      { bucket: '2024-03-14T00:00:00.000Z', action: 'ticket.create', events: 1 },
      { bucket: '2024-03-15T00:00:00.000Z', action: 'ticket.update', events: 1 },
      { bucket: '2024-03-16T00:00:00.000Z', action: 'ticket.update', events: 1 },
    ])
    // Not on the hour: the hourly table cannot split an hour, so the events answer.
    const partial = await counts('by=action&bucket=none&since=2024-03-15T11:02:30Z&tenant=acme')
    expect(partial.source).toBe('audit_events_deduplicated')
    expect(partial.groups).toEqual([
      { action: 'alert.raised', events: 1 },
      { action: 'session.sign_in', events: 3 },
    ])
    const limited = await counts('by=action&bucket=none&limit=1')
    expect(limited.groups).toHaveLength(1)
    expect(limited.truncated).toBe(true)
  })
})

describe('GET /v1/alerts', () => {
  it('gives alerts with their rule, severity and group key', async () => {
    const { app } = await queryApiFixture()
    const response = await app.inject({ url: '/v1/alerts?rule=failed-sign-ins', headers: bearer('auditor') })
    expect(response.statusCode).toBe(200)
    const { alerts } = response.json<{ alerts: Record<string, unknown>[] }>()
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({
      alert_id: alert.event_id,
      status: 'raised',
      rule: 'failed-sign-ins',
      rule_kind: 'threshold',
      severity: 'warning',
      group_key: 'u-7',
      tenant: 'acme',
      description: '3 failed sign-ins in 5 minutes',
      figures: { count: 3 },
      triggering_event_ids: [signIns[5]!.event_id],
      raised_at: '2024-03-15T11:05:00.000Z',
    })
    const none = await app.inject({ url: '/v1/alerts?rule=other', headers: bearer('auditor') })
    expect(none.json<{ alerts: unknown[] }>().alerts).toEqual([])
  })
})

describe('GET /v1/export', () => {
  it('streams NDJSON and CSV, oldest first', async () => {
    const { app } = await queryApiFixture()
    const ndjson = await app.inject({ url: '/v1/export?tenant=acme', headers: bearer('auditor') })
    expect(ndjson.statusCode).toBe(200)
    expect(ndjson.headers['content-type']).toContain('application/x-ndjson')
    const lines = ndjson.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { event_id: string })
    expect(lines.map((line) => line.event_id)).toEqual(
      [emailChange, ...signIns, alert].map((event) => event.event_id),
    )

    const csv = await app.inject({ url: '/v1/export?format=csv&tenant=witify', headers: bearer('auditor') })
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toContain('text/csv')
    const rows = csv.body.trimEnd().split('\n')
    expect(rows[0]!.startsWith('event_id,occurred_at,recorded_at,tenant,')).toBe(true)
    expect(rows).toHaveLength(1 + ticketEvents.length)
    expect(rows[1]).toContain(ticketEvents[0]!.event_id)
  })
})

describe('access', () => {
  it('answers 401 without a valid key, and records each refusal', async () => {
    const { app, records } = await queryApiFixture()
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing API key'],
      [{ authorization: 'Basic abc' }, 'malformed Authorization header'],
      [{ authorization: 'Bearer auditor.wrong-secret' }, 'invalid API key'],
      [{ authorization: 'Bearer nobody.auditor-secret' }, 'invalid API key'],
    ]
    for (const [headers, message] of cases) {
      const response = await app.inject({ url: '/v1/events', headers })
      expect(response.statusCode).toBe(401)
      expect(response.json<{ message: string }>().message).toContain(message)
    }
    expect(records.map((r) => [r.outcome, r.status, r.keyId])).toEqual([
      ['denied', 401, null],
      ['denied', 401, null],
      ['denied', 401, 'auditor'],
      ['denied', 401, 'nobody'],
    ])
  })

  it('keeps a tenant-restricted key to its tenants on every endpoint, whatever it asks', async () => {
    const { app } = await queryApiFixture()
    for (const url of [
      '/v1/events?tenant=witify',
      '/v1/objects/ticket/9548-B1/timeline?tenant=witify',
      '/v1/counts?tenant=witify',
      '/v1/alerts?tenant=witify',
      '/v1/export?tenant=witify',
    ]) {
      const response = await app.inject({ url, headers: bearer('acmeAnalyst') })
      expect(response.statusCode, url).toBe(403)
      expect(response.json<{ message: string }>().message).toBe(
        "key acme-analyst may not read tenant 'witify'",
      )
    }
    // Without a tenant filter, the SQL restricts the answer to the key's tenants.
    const events = (
      await app.inject({ url: '/v1/events?limit=1000', headers: bearer('acmeAuditor') })
    ).json<EventsPage>()
    expect(events.events.length).toBe(8)
    expect(new Set(events.events.map((e) => e.tenant))).toEqual(new Set(['acme']))
    const timeline = await app.inject({
      url: '/v1/objects/ticket/9548-B1/timeline',
      headers: bearer('acmeAuditor'),
    })
    expect(timeline.json<EventsPage>().events).toEqual([])
    const counts = await app.inject({
      url: '/v1/counts?by=tenant&bucket=none',
      headers: bearer('acmeAuditor'),
    })
    expect(counts.json<{ groups: unknown[] }>().groups).toEqual([{ tenant: 'acme', events: 8 }])
    const exported = await app.inject({ url: '/v1/export', headers: bearer('acmeAuditor') })
    expect(exported.body).not.toContain('witify')
    expect(exported.body.trimEnd().split('\n')).toHaveLength(8)
  })

  it('never shows an analyst a sensitive value, in any answer', async () => {
    const { app } = await queryApiFixture()
    const urls = [
      '/v1/events?object_type=customer',
      '/v1/objects/customer/c-1/timeline',
      '/v1/export?object_type=customer',
      '/v1/export?object_type=customer&format=csv',
    ]
    for (const key of ['analyst', 'acmeAnalyst'] as TestKeyName[]) {
      for (const url of urls) {
        const response = await app.inject({ url, headers: bearer(key) })
        expect(response.statusCode, url).toBe(200)
        expect(response.body, `${key} ${url}`).not.toContain('rita@')
        expect(response.body, `${key} ${url}`).toContain('[redacted]')
        // What is not sensitive stays visible.
        expect(response.body).toContain('platinum')
      }
    }
    const page = (await app.inject({ url: urls[0]!, headers: bearer('analyst') })).json<{
      events: { changes: { path: string; old_value: string; new_value: string }[] }[]
    }>()
    expect(page.events[0]!.changes.find((change) => change.path === 'email')).toEqual({
      path: 'email',
      old_value: '"[redacted]"',
      new_value: '"[redacted]"',
      value_type: 'string',
    })
    // An auditor sees the values as stored.
    const audited = await app.inject({ url: urls[0]!, headers: bearer('auditor') })
    expect(audited.body).toContain('rita@new.example')
  })

  it('records each read with its key, endpoint, filters and row count', async () => {
    const { app, records } = await queryApiFixture()
    await app.inject({ url: '/v1/events?actor=u-7&limit=3', headers: bearer('acmeAnalyst') })
    await app.inject({ url: '/v1/events?tenant=witify', headers: bearer('acmeAnalyst') })
    expect(records).toHaveLength(2)
    expect(records[0]).toMatchObject({
      keyId: 'acme-analyst',
      role: 'analyst',
      outcome: 'read',
      endpoint: 'GET /v1/events',
      filters: { actor: 'u-7', limit: 3 },
      rowCount: 3,
      status: 200,
    })
    expect(records[1]).toMatchObject({
      keyId: 'acme-analyst',
      outcome: 'denied',
      status: 403,
      reason: "key acme-analyst may not read tenant 'witify'",
    })
  })

  it('withholds the answer when the access cannot be recorded', async () => {
    const failing = await queryApiFixture()
    // Replace the recorder's push with a failure: records are the API's duty, not optional.
    failing.records.push = () => {
      throw new Error('broker down')
    }
    const response = await failing.app.inject({ url: '/v1/events', headers: bearer('auditor') })
    expect(response.statusCode).toBe(503)
    expect(response.body).not.toContain('event_id')
  })
})

describe('GET /v1/objects/{type}/{id}/state', () => {
  type State = {
    tenant: string
    events: number
    deleted: boolean
    fields: { path: string; value: unknown; changed_at: string; actor: { id: string }; event_id: string }[]
  }
  const stateOf = async (
    app: Awaited<ReturnType<typeof queryApiFixture>>['app'],
    path: string,
    key: Parameters<typeof bearer>[0] = 'auditor',
  ) => app.inject({ url: `/v1/objects/${path}`, headers: bearer(key) })
  const values = (state: State) => Object.fromEntries(state.fields.map((f) => [f.path, f.value]))

  it("rebuilds the reference's ticket as of any time: each field's value and who last changed it", async () => {
    const { app } = await queryApiFixture()
    const noon = await stateOf(app, 'ticket/9548-B1/state?at=2024-03-15T12:00:00Z')
    expect(noon.statusCode, noon.body).toBe(200)
    const state = noon.json<State>()
    expect(state).toMatchObject({ tenant: 'witify', events: 2, deleted: false })
    expect(values(state)).toEqual({ priority: 'Urgent', status: 'open', title: 'Export to PDF fails' })
    expect(state.fields.find((f) => f.path === 'priority')).toMatchObject({
      changed_at: '2024-03-15T11:17:00.000Z',
      actor: { id: 'u-1002' },
      event_id: ticketEvents[1]!.event_id,
    })
    // An event at `at` itself counts; without `at`, the state now.
    for (const path of ['ticket/9548-B1/state?at=2024-03-16T13:12:00Z', 'ticket/9548-B1/state']) {
      const now = (await stateOf(app, path)).json<State>()
      expect(now.events).toBe(3)
      expect(values(now)['priority']).toBe('Normal')
      expect(values(now)['solution']).toContain('Save as PDF')
      expect(now.fields.find((f) => f.path === 'priority')?.actor.id).toBe('u-1003')
    }
    const before = await stateOf(app, 'ticket/9548-B1/state?at=2024-03-01')
    expect(before.statusCode).toBe(404)
    expect(before.json<{ message: string }>().message).toContain('no events of ticket 9548-B1 up to')
  })

  it('shows an analyst no sensitive value, and a tenant-restricted key no other tenant', async () => {
    const { app } = await queryApiFixture()
    const auditor = (await stateOf(app, 'customer/c-1/state')).json<State>()
    expect(values(auditor)).toMatchObject({ email: 'rita@new.example', tier: 'platinum' })
    const analyst = (await stateOf(app, 'customer/c-1/state', 'analyst')).json<State>()
    expect(values(analyst)).toMatchObject({ email: '[redacted]', tier: 'platinum' })
    expect(JSON.stringify(analyst)).not.toContain('rita@')
    expect((await stateOf(app, 'ticket/9548-B1/state', 'acmeAuditor')).statusCode).toBe(404)
    expect((await stateOf(app, 'ticket/9548-B1/state?tenant=witify', 'acmeAuditor')).statusCode).toBe(403)
    const refused = await stateOf(app, 'ticket/9548-B1/state?at=yesterday')
    expect(refused.statusCode).toBe(400)
  })
})

describe('SQL injection', () => {
  const attempts = [
    "x' OR '1'='1",
    "x') OR ('1'='1",
    "x' OR 1=1 --",
    "'; DROP TABLE audit_events; --",
    "x\\' OR 1=1 --",
    '{tenant:String}',
    "acme' UNION ALL SELECT * FROM audit_events --",
  ]
  const textFilters = [
    'tenant',
    'actor',
    'action',
    'category',
    'object_type',
    'object_id',
    'object_id2',
    'object_id3',
    'session_id',
    'ip',
    'request_id',
    'trace_id',
    'source_service',
    'changed',
  ]

  it('is harmless in every filter of every endpoint: matches nothing, changes nothing', async () => {
    const { app, storage } = await queryApiFixture()
    for (const filter of textFilters) {
      for (const attempt of attempts) {
        const value = encodeURIComponent(attempt)
        const events = await app.inject({ url: `/v1/events?${filter}=${value}`, headers: bearer('auditor') })
        expect(events.statusCode, `${filter}=${attempt}`).toBe(200)
        expect(events.json<EventsPage>().events).toEqual([])
        const counts = await app.inject({
          url: `/v1/counts?${filter}=${value}&by=action`,
          headers: bearer('auditor'),
        })
        expect(counts.json<{ groups: unknown[] }>().groups, `${filter}=${attempt}`).toEqual([])
        const exported = await app.inject({
          url: `/v1/export?${filter}=${value}`,
          headers: bearer('auditor'),
        })
        expect(exported.body, `${filter}=${attempt}`).toBe('')
      }
    }
    for (const attempt of attempts) {
      const value = encodeURIComponent(attempt)
      const timeline = await app.inject({
        url: `/v1/objects/${value}/${value}/timeline`,
        headers: bearer('auditor'),
      })
      expect(timeline.statusCode, attempt).toBe(200)
      expect(timeline.json<EventsPage>().events).toEqual([])
      const alerts = await app.inject({ url: `/v1/alerts?rule=${value}`, headers: bearer('auditor') })
      expect(alerts.json<{ alerts: unknown[] }>().alerts).toEqual([])
    }
    // Filters with a fixed set of values refuse anything else; so do times and cursors.
    for (const filter of [
      'actor_type',
      'action_kind',
      'outcome',
      'severity',
      'since',
      'until',
      'cursor',
      'order',
    ]) {
      const response = await app.inject({
        url: `/v1/events?${filter}=${encodeURIComponent(attempts[0]!)}`,
        headers: bearer('auditor'),
      })
      expect(response.statusCode, filter).toBe(400)
    }
    for (const by of ['actor_id', 'action) FROM system.tables --', 'action,1']) {
      const response = await app.inject({
        url: `/v1/counts?by=${encodeURIComponent(by)}`,
        headers: bearer('auditor'),
      })
      expect(response.statusCode, by).toBe(400)
    }
    const stored = await (
      await storage.client.query({ query: 'SELECT count() AS n FROM audit_events', format: 'JSONEachRow' })
    ).json<{ n: string }>()
    expect(stored).toEqual([{ n: String(allEvents.length) }])
  })

  it("cannot step out of a restricted key's tenant", async () => {
    const { app } = await queryApiFixture()
    for (const attempt of ["acme' OR tenant = 'witify", "acme') OR (1=1", 'acme']) {
      const response = await app.inject({
        url: `/v1/events?tenant=${encodeURIComponent(attempt)}&limit=1000`,
        headers: bearer('acmeAuditor'),
      })
      if (attempt === 'acme') expect(response.json<EventsPage>().events).toHaveLength(8)
      else expect(response.statusCode).toBe(403)
    }
    const actor = await app.inject({
      url: `/v1/events?actor=${encodeURIComponent("x' OR tenant = 'witify' OR '1'='1")}`,
      headers: bearer('acmeAuditor'),
    })
    expect(actor.json<EventsPage>().events).toEqual([])
  })
})

describe('GET /openapi.json', () => {
  it('describes every endpoint, without a key', async () => {
    const { app } = await queryApiFixture()
    const response = await app.inject({ url: '/openapi.json' })
    expect(response.statusCode).toBe(200)
    const document = response.json<{ openapi: string; paths: Record<string, unknown> }>()
    expect(document.openapi).toMatch(/^3\./)
    expect(Object.keys(document.paths).sort()).toEqual([
      '/v1/alerts',
      '/v1/counts',
      '/v1/events',
      '/v1/export',
      '/v1/objects/{object_type}/{object_id}/state',
      '/v1/objects/{object_type}/{object_id}/timeline',
      '/v1/sql',
      '/v1/whoami',
    ])
  })
})
