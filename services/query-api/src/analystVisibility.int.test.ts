import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { createEventBuilder } from '@audit-pipeline/producer'
import { parseAnalystVisibility } from './access/analystVisibilityFile.js'
import { bearer, queryApiFixture, type TestKeyName } from './testSupport/queryApiFixture.js'

/**
 * Two tenants with different settings: acme shows analysts IPs (not session ids), witify hides
 * user agents and attributes too. Every value an analyst must not see carries `5ecret` or is one
 * of witify's IPs, so one search of each answer's bytes finds any leak.
 */
const visibility = parseAnalystVisibility(
  [
    'default: { ip: hidden, session_id: hidden, user_agent: visible, attributes: visible }',
    'tenants:',
    '  acme: { ip: visible }',
    '  witify: { user_agent: hidden, attributes: hidden }',
  ].join('\n'),
  'visibility.yaml',
)

const hiddenFromAnalysts = [
  '5ecret',
  '198.51.100.21',
  '198.51.100.22',
  // Any part of them, e.g. a CSV cell cut or quoted differently.
  '198.51.100',
]
/** What acme's analysts may see, and must: the setting shows it. */
const shownToAnalysts = ['203.0.113.11', 'AcmeAgent/1.0', 'acme-channel-visible', 'acme-group-visible']

const build = createEventBuilder(
  { source: { service: 'helpdesk' }, category: 'business', snapshots: true },
  { now: () => Date.parse('2024-03-20T00:00:00Z'), newEventId: () => '00000000-0000-4000-8000-000000000000' },
)
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

const people = {
  acme: {
    actor: {
      id: 'u-1',
      ip: '203.0.113.11',
      user_agent: 'AcmeAgent/1.0',
      session_id: 'acme-session-5ecret',
    },
    onBehalfOf: {
      id: 'u-2',
      ip: '203.0.113.12',
      user_agent: 'AcmeOboAgent/1.0',
      session_id: 'acme-obo-session-5ecret',
    },
    attributes: { channel: 'acme-channel-visible' },
  },
  witify: {
    actor: {
      id: 'w-1',
      ip: '198.51.100.21',
      user_agent: 'WitifyAgent/5ecret',
      session_id: 'witify-session-5ecret',
    },
    onBehalfOf: {
      id: 'w-2',
      ip: '198.51.100.22',
      user_agent: 'WitifyOboAgent/5ecret',
      session_id: 'witify-obo-session-5ecret',
    },
    attributes: { channel: 'witify-channel-5ecret' },
  },
} as const

function ticketEvents(tenant: keyof typeof people, first: number): AuditEvent[] {
  const { actor, onBehalfOf, attributes } = people[tenant]
  const context = (n: number) => ({
    tenant,
    actor,
    onBehalfOf,
    attributes,
    eventId: id(first + n),
    occurredAt: Date.parse(`2024-03-15T10:0${n}:00Z`),
  })
  return [
    build.created({ type: 'ticket', id: 'T-1' }, { status: 'open', priority: 2 }, context(0)),
    build.updated(
      { type: 'ticket', id: 'T-1' },
      { status: 'open', priority: 2 },
      { status: 'closed', priority: 2 },
      context(1),
    )!,
  ]
}

/** An alert as the alerting service writes it: its fields are attributes. */
function alertEvent(
  tenant: keyof typeof people,
  n: number,
  made: { groupKey?: string; figures?: string; reveals?: string | null } = {},
): AuditEvent {
  return {
    ...build.read(
      { type: 'alert', id: id(n), id2: `${tenant}-rule`, label: 'sign-ins from a new address' },
      {
        tenant,
        actor: { type: 'system', id: 'audit-alerting' },
        action: 'alert.raised',
        category: 'security',
        severity: 'warning',
        eventId: id(n),
        occurredAt: Date.parse('2024-03-15T10:05:00Z'),
        attributes: {
          'alert.status': 'raised',
          'alert.rule': `${tenant}-rule`,
          'alert.rule_kind': 'threshold',
          'alert.group_key':
            made.groupKey ?? (tenant === 'acme' ? 'acme-group-visible' : 'witify-group-5ecret'),
          'alert.figures': made.figures ?? '{"count":3}',
          'alert.triggering_event_ids': JSON.stringify([id(n - 100)]),
          // A rule grouping by IP address: shown where IPs are (acme), not where they are hidden.
          ...(made.reveals !== null && { 'alert.reveals': made.reveals ?? 'ip' }),
        },
      },
    ),
    action: { kind: 'operation', name: 'alert.raised' },
  }
}

/**
 * An auditor's search as the API records it (accessAudit.ts): its filters, values included, are
 * an attribute of the access record, filed under the tenant searched.
 */
function accessRecord(tenant: keyof typeof people, n: number, filters: Record<string, string>): AuditEvent {
  return build.read(
    { type: 'audit_query', id: `req-${n}` },
    {
      tenant,
      actor: { type: 'service', id: 'auditor', roles: ['auditor'], ip: '192.0.2.1' },
      action: 'audit_query.read',
      category: 'security',
      eventId: id(n),
      occurredAt: Date.parse('2024-03-15T10:06:00Z'),
      attributes: { endpoint: 'GET /v1/events', filters: JSON.stringify(filters), status: '200' },
    },
  )
}

const events: AuditEvent[] = [
  ...ticketEvents('acme', 100),
  ...ticketEvents('witify', 200),
  alertEvent('acme', 300),
  alertEvent('witify', 400),
  accessRecord('acme', 500, { tenant: 'acme', ip: '203.0.113.11', session_id: 'acme-session-5ecret' }),
  accessRecord('witify', 600, { tenant: 'witify', ip: '198.51.100.21' }),
]

/** RFC 4180 rows: quoted cells may hold commas, quotes (doubled) and line breaks. */
function csvRows(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (quoted) {
      if (char !== '"') cell += char
      else if (text[i + 1] === '"') cell += text[++i]!
      else quoted = false
    } else if (char === '"') quoted = true
    else if (char === ',') {
      row.push(cell)
      cell = ''
    } else if (char === '\n') {
      rows.push([...row, cell])
      row = []
      cell = ''
    } else if (char !== '\r') cell += char
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell])
  return rows
}

type App = Awaited<ReturnType<typeof queryApiFixture>>['app']
type Actor = { ip: string | null; user_agent: string | null; session_id: string | null }
type Event = {
  tenant: string
  object: { type: string }
  actor: Actor
  on_behalf_of: Actor | null
  attributes: Record<string, string>
}

async function get(app: App, url: string, key: TestKeyName) {
  return app.inject({ url, headers: bearer(key) })
}

async function events200(app: App, url: string, key: TestKeyName): Promise<Event[]> {
  const response = await get(app, url, key)
  expect(response.statusCode, `${key} ${url}: ${response.body}`).toBe(200)
  return response.json<{ events: Event[] }>().events
}

/** Every answer an analyst can get at the data through, as each key may ask it. */
const answers = [
  '/v1/events?limit=1000',
  '/v1/events?limit=1000&order=asc',
  '/v1/events?tenant=witify',
  '/v1/events?tenant=acme',
  '/v1/events?object_type=ticket&object_id=T-1',
  '/v1/events?actor=w-1',
  '/v1/events?object_type=audit_query',
  '/v1/events?category=security',
  '/v1/objects/ticket/T-1/timeline',
  '/v1/objects/ticket/T-1/timeline?tenant=witify',
  '/v1/objects/ticket/T-1/timeline?tenant=acme',
  '/v1/objects/ticket/T-1/state',
  '/v1/objects/ticket/T-1/state?tenant=witify',
  '/v1/objects/ticket/T-1/state?tenant=acme',
  '/v1/objects/audit_query/req-600/timeline',
  '/v1/alerts',
  '/v1/alerts?tenant=witify',
  '/v1/export',
  '/v1/export?format=csv',
  '/v1/export?tenant=witify&format=csv',
  '/v1/export?tenant=witify&format=ndjson',
  '/v1/counts?by=tenant,actor,object_type&bucket=none&exact=true',
  '/v1/counts?by=actor&bucket=hour',
]

/** Every way to search by a hidden value, for a key of every tenant: refused. */
const searchesByHiddenValues = [
  '/v1/events?ip=198.51.100.21',
  '/v1/events?ip=198.51.100.21&tenant=witify',
  '/v1/events?ip=203.0.113.11',
  '/v1/events?session_id=witify-session-5ecret',
  '/v1/events?session_id=witify-session-5ecret&tenant=witify',
  '/v1/events?session_id=acme-session-5ecret&tenant=acme',
  '/v1/events?ip=198.51.100.21&tenant=witify&limit=1&order=asc',
  '/v1/counts?ip=198.51.100.21&by=tenant&exact=true',
  '/v1/counts?session_id=acme-session-5ecret&tenant=acme&by=actor',
  '/v1/counts?ip=198.51.100.21&tenant=witify&by=action&bucket=none',
  '/v1/export?ip=198.51.100.21',
  '/v1/export?ip=198.51.100.21&tenant=witify&format=csv',
  '/v1/export?session_id=witify-session-5ecret&format=ndjson',
  '/v1/alerts?rule=witify-rule',
  '/v1/alerts?rule=witify-rule&tenant=witify',
]

describe('analyst visibility of actor details and attributes, per tenant', () => {
  it('leaves no hidden value in any answer an analyst can get, by any endpoint or filter', async () => {
    const { app } = await queryApiFixture({ events, analystVisibility: visibility })
    const bodies: string[] = []
    for (const key of ['analyst', 'acmeAnalyst'] as const) {
      for (const url of [...answers, ...searchesByHiddenValues]) {
        const response = await get(app, url, key)
        const label = `${key} ${url} → ${response.statusCode} ${response.body.slice(0, 300)}`
        expect(response.statusCode, label).toBeLessThan(500)
        for (const hidden of hiddenFromAnalysts) expect(response.body, label).not.toContain(hidden)
        bodies.push(response.body)
      }
      const sql = await app.inject({
        method: 'POST',
        url: '/v1/sql',
        headers: bearer(key),
        payload: { sql: 'SELECT actor_ip, actor_session_id, attributes FROM audit_events_deduplicated' },
      })
      expect(sql.statusCode).toBe(403)
      for (const hidden of hiddenFromAnalysts) expect(sql.body).not.toContain(hidden)
    }
    // The answers were not empty: what acme shows analysts is there.
    const all = bodies.join('\n')
    for (const shown of shownToAnalysts) expect(all).toContain(shown)
  })

  it('refuses an analyst a search by a field hidden in any tenant it may cover, saying which and why', async () => {
    const { app } = await queryApiFixture({ events, analystVisibility: visibility })
    for (const url of searchesByHiddenValues) {
      const response = await get(app, url, 'analyst')
      expect(response.statusCode, `${url}: ${response.body}`).toBe(403)
      const filter = /[?&](ip|session_id|rule)=/.exec(url)![1]!
      expect(response.json<{ message: string }>().message, url).toMatch(
        new RegExp(`^${filter}: an analyst may not filter by .* hidden from analysts in `),
      )
    }
    expect((await get(app, '/v1/events?ip=198.51.100.21&tenant=witify', 'analyst')).json()).toEqual({
      error: 'forbidden',
      message:
        "ip: an analyst may not filter by the actor's IP address, which is hidden from analysts in tenant 'witify'",
    })
    expect(
      (await get(app, '/v1/events?ip=203.0.113.11', 'analyst')).json<{ message: string }>().message,
    ).toContain('hidden from analysts in every tenant the file does not set otherwise')
    expect(
      (await get(app, '/v1/alerts?rule=witify-rule', 'analyst')).json<{ message: string }>().message,
    ).toBe(
      "rule: an analyst may not filter by the event's attributes, which are hidden from analysts in tenant 'witify'",
    )
    // acme's key: session ids are hidden in acme, IPs and attributes are not.
    expect((await get(app, '/v1/events?session_id=acme-session-5ecret', 'acmeAnalyst')).statusCode).toBe(403)
    expect((await get(app, '/v1/export?session_id=x&format=csv', 'acmeAnalyst')).statusCode).toBe(403)
    expect((await get(app, '/v1/counts?session_id=x&exact=true', 'acmeAnalyst')).statusCode).toBe(403)
    // Counts cannot be grouped by an actor detail or an attribute at all.
    for (const by of ['ip', 'session_id', 'user_agent', 'attributes']) {
      expect((await get(app, `/v1/counts?by=${by}`, 'acmeAnalyst')).statusCode, by).toBe(400)
    }
  })

  it('lets an analyst search by a field visible in every tenant the request covers', async () => {
    const { app } = await queryApiFixture({ events, analystVisibility: visibility })
    const acmeTickets = events.filter((event) => event.tenant === 'acme' && event.actor.id === 'u-1')
    for (const [url, key] of [
      ['/v1/events?ip=203.0.113.11&order=asc', 'acmeAnalyst'],
      ['/v1/events?ip=203.0.113.11&tenant=acme&order=asc', 'analyst'],
    ] as const) {
      const found = await events200(app, url, key)
      expect(
        found.map((event) => event.actor.ip),
        url,
      ).toEqual(acmeTickets.map(() => '203.0.113.11'))
    }
    const counted = await get(app, '/v1/counts?ip=203.0.113.11&by=tenant&bucket=none', 'acmeAnalyst')
    expect(counted.json()).toMatchObject({ groups: [{ tenant: 'acme', events: 2 }] })
    const export_ = await get(app, '/v1/export?ip=203.0.113.11&format=csv', 'acmeAnalyst')
    expect(export_.statusCode).toBe(200)
    expect(export_.body).toContain('203.0.113.11')
    const alerts = await get(app, '/v1/alerts?rule=acme-rule', 'acmeAnalyst')
    expect(alerts.json<{ alerts: unknown[] }>().alerts).toHaveLength(1)
  })

  it("shapes each event by its own tenant's setting: hidden details null, hidden attributes {}", async () => {
    const { app } = await queryApiFixture({ events, analystVisibility: visibility })
    const byTenant = (found: Event[], tenant: string) =>
      found.filter((event) => event.tenant === tenant && event.object.type === 'ticket')
    const found = await events200(app, '/v1/events?object_type=ticket', 'analyst')
    for (const event of byTenant(found, 'acme')) {
      expect(event.actor).toMatchObject({ ip: '203.0.113.11', user_agent: 'AcmeAgent/1.0', session_id: null })
      expect(event.on_behalf_of).toMatchObject({
        ip: '203.0.113.12',
        user_agent: 'AcmeOboAgent/1.0',
        session_id: null,
      })
      expect(event.attributes).toEqual({ channel: 'acme-channel-visible' })
    }
    for (const event of byTenant(found, 'witify')) {
      expect(event.actor).toMatchObject({ id: 'w-1', ip: null, user_agent: null, session_id: null })
      expect(event.on_behalf_of).toMatchObject({ id: 'w-2', ip: null, user_agent: null, session_id: null })
      expect(event.attributes).toEqual({})
    }
    expect(byTenant(found, 'acme')).toHaveLength(2)
    expect(byTenant(found, 'witify')).toHaveLength(2)

    // An auditor's search recorded in acme: the session id it searched by is hidden there.
    const [record] = await events200(app, '/v1/events?object_type=audit_query&tenant=acme', 'analyst')
    expect(JSON.parse(record!.attributes['filters']!)).toEqual({
      tenant: 'acme',
      ip: '203.0.113.11',
      session_id: null,
    })
    expect(record!.actor.ip).toBe('192.0.2.1')

    // witify's alert: its attribute-borne fields are empty; what its object says stays.
    const alerts = (await get(app, '/v1/alerts?tenant=witify', 'analyst')).json<{
      alerts: Record<string, unknown>[]
    }>().alerts
    expect(alerts).toEqual([
      expect.objectContaining({
        rule: 'witify-rule',
        status: 'raised',
        group_key: null,
        figures: {},
        triggering_event_ids: [],
        attributes: {},
      }),
    ])

    // CSV: the stored columns, the hidden ones empty.
    const csv = (await get(app, '/v1/export?tenant=witify&object_type=ticket&format=csv', 'analyst')).body
    const [columns, ...rows] = csvRows(csv)
    expect(rows).toHaveLength(2)
    for (const cells of rows) {
      const cell = (name: string) => cells[columns!.indexOf(name)]
      expect(cell('actor_id')).toBe('w-1')
      for (const name of ['actor_ip', 'actor_session_id', 'actor_user_agent', 'on_behalf_of_ip']) {
        expect(cell(name), name).toBe('')
      }
      expect(cell('attributes')).toBe('{}')
    }
  })

  it('shows an auditor everything, and lets it search by every field', async () => {
    const { app } = await queryApiFixture({ events, analystVisibility: visibility })
    const witifyValues = [
      '198.51.100.21',
      '198.51.100.22',
      'WitifyAgent/5ecret',
      'WitifyOboAgent/5ecret',
      'witify-session-5ecret',
      'witify-obo-session-5ecret',
      'witify-channel-5ecret',
      'witify-group-5ecret',
    ]
    for (const url of [
      '/v1/events?tenant=witify',
      '/v1/export?tenant=witify',
      '/v1/export?tenant=witify&format=csv',
    ]) {
      const body = (await get(app, url, 'auditor')).body
      for (const value of witifyValues) expect(body, `${url} ${value}`).toContain(value)
    }
    const acme = (await get(app, '/v1/objects/ticket/T-1/timeline?tenant=acme', 'acmeAuditor')).body
    expect(acme).toContain('acme-session-5ecret')
    expect(acme).toContain('acme-obo-session-5ecret')
    const record = await events200(app, '/v1/events?object_type=audit_query&tenant=acme', 'auditor')
    expect(record[0]!.attributes['filters']).toContain('acme-session-5ecret')

    const witifyTickets = [id(201), id(200)]
    for (const url of [
      '/v1/events?ip=198.51.100.21',
      '/v1/events?session_id=witify-session-5ecret',
      '/v1/events?session_id=witify-session-5ecret&tenant=witify',
    ]) {
      const found = await get(app, url, 'auditor')
      expect(
        found.json<{ events: { event_id: string }[] }>().events.map((event) => event.event_id),
        url,
      ).toEqual(witifyTickets)
    }
    expect(
      (await get(app, '/v1/counts?ip=198.51.100.21&by=tenant&bucket=none', 'auditor')).json(),
    ).toMatchObject({ groups: [{ tenant: 'witify', events: 2 }] })
    expect((await get(app, '/v1/export?session_id=witify-session-5ecret', 'auditor')).body).toContain(
      'witify-channel-5ecret',
    )
    const alerts = (await get(app, '/v1/alerts?rule=witify-rule', 'auditor')).json<{
      alerts: { group_key: string }[]
    }>().alerts
    expect(alerts.map((alert) => alert.group_key)).toEqual(['witify-group-5ecret'])
  })

  it("hides an alert's group key and figures from analysts where they are made of a field the tenant hides, or it does not say", async () => {
    const alerts = [
      alertEvent('acme', 700, {
        groupKey: '203.0.113.11',
        figures: '{"value":"203.0.113.11"}',
        reveals: 'ip',
      }),
      alertEvent('acme', 701, {
        groupKey: 'acme-session-5ecret',
        figures: '{"v":"5ecret"}',
        reveals: 'session_id',
      }),
      alertEvent('acme', 702, { groupKey: 'ip-and-5ecret-session', figures: '{}', reveals: 'ip,session_id' }),
      alertEvent('acme', 703, { groupKey: 'unknown-make-5ecret', figures: '{"v":"5ecret"}', reveals: null }),
      alertEvent('acme', 704, { groupKey: 'u-1', figures: '{"count":9}', reveals: '' }),
    ]
    const { app } = await queryApiFixture({ events: alerts, analystVisibility: visibility })
    type Alert = { alert_id: string; group_key: string | null; figures: Record<string, unknown> }
    const answer = async (key: TestKeyName) => {
      const response = await get(app, '/v1/alerts?tenant=acme', key)
      expect(response.statusCode).toBe(200)
      return response
    }
    const shown = (await answer('analyst')).json<{ alerts: Alert[] }>().alerts
    const byId = new Map(shown.map((alert) => [alert.alert_id, alert]))
    expect(byId.get(id(700))).toMatchObject({ group_key: '203.0.113.11', figures: { value: '203.0.113.11' } })
    expect(byId.get(id(704))).toMatchObject({ group_key: 'u-1', figures: { count: 9 } })
    for (const hidden of [701, 702, 703]) {
      expect(byId.get(id(hidden)), String(hidden)).toMatchObject({ group_key: null, figures: {} })
    }
    expect((await answer('analyst')).body).not.toContain('5ecret')
    // Auditors see every one as it was raised.
    const audited = (await answer('auditor')).json<{ alerts: Alert[] }>().alerts
    expect(audited.map((alert) => alert.group_key).sort()).toEqual(
      ['203.0.113.11', 'acme-session-5ecret', 'ip-and-5ecret-session', 'unknown-make-5ecret', 'u-1'].sort(),
    )
  })

  it('without a setting, hides IP and session id from analysts and keeps user agent and attributes', async () => {
    const { app } = await queryApiFixture({ events })
    const found = await events200(app, '/v1/events?object_type=ticket&tenant=witify', 'analyst')
    expect(found).toHaveLength(2)
    for (const event of found) {
      expect(event.actor).toMatchObject({ ip: null, session_id: null, user_agent: 'WitifyAgent/5ecret' })
      expect(event.attributes).toEqual({ channel: 'witify-channel-5ecret' })
    }
    expect((await get(app, '/v1/events?ip=203.0.113.11', 'acmeAnalyst')).statusCode).toBe(403)
    expect((await get(app, '/v1/events?session_id=x', 'analyst')).statusCode).toBe(403)
    expect((await get(app, '/v1/alerts?rule=witify-rule', 'analyst')).statusCode).toBe(200)
  })
})
