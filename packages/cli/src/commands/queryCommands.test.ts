import { describe, expect, it } from 'vitest'
import { queryStateCommand, querySearchCommand, queryTimelineCommand } from './query.js'
import { QueryApiError, resolveQueryApiEndpoint, type QueryApiClient } from './queryApiClient.js'
import { filterQuery, outputFormat } from './queryOptions.js'
import { csvLines, eventListing, tableLines, type ApiEvent } from './queryOutput.js'
import { tailCommand } from './tail.js'
import { startTail, tailSince, tailStep } from './tailWindow.js'

const event = (id: string, occurredAt: string, overrides: Partial<ApiEvent> = {}): ApiEvent => ({
  event_id: id,
  occurred_at: occurredAt,
  tenant: 'acme',
  actor: { type: 'user', id: 'u-7', display_name: 'Sam, "Admin"' },
  action: { kind: 'update', name: 'customer.update' },
  category: 'business',
  object: { type: 'customer', id: 'c-1', label: null },
  changes: [{ path: 'tier', old_value: '"gold"', new_value: '"platinum"' }],
  outcome: { status: 'success', reason: null },
  ...overrides,
})

describe('query options', () => {
  it('turns filter flags into the API query string, refusing empty values and zone-less times', () => {
    expect(filterQuery({ actor: 'u-7', objectType: 'ticket', since: '2026-03-01' }).toString()).toBe(
      'actor=u-7&object_type=ticket&since=2026-03-01',
    )
    expect(
      filterQuery({
        objectId2: 'v2',
        objectId3: 'eu',
        sessionId: 's-88a1',
        ip: '203.0.113.10',
        requestId: 'req-5b21',
        traceId: 't-1',
        sourceService: 'helpdesk-api',
      }).toString(),
    ).toBe(
      'object_id2=v2&object_id3=eu&session_id=s-88a1&ip=203.0.113.10&request_id=req-5b21&trace_id=t-1&source_service=helpdesk-api',
    )
    expect(() => filterQuery({ sessionId: '' })).toThrow('--session-id must not be empty')
    expect(filterQuery({ changed: 'priority', from: 'Urgent', to: 'Normal' }).toString()).toBe(
      'changed=priority&from=Urgent&to=Normal',
    )
    expect(() => filterQuery({ to: 'Normal' })).toThrow('name the field with --changed')
    expect(filterQuery({ createdSince: '2024-03-14', updatedUntil: '2024-03-16T00:00:00Z' }).toString()).toBe(
      'created_since=2024-03-14&updated_until=2024-03-16T00%3A00%3A00Z',
    )
    expect(() => filterQuery({ updatedSince: '2024-03-16T10:00' })).toThrow(
      '--updated-since must be an ISO-8601',
    )
    expect(() => filterQuery({ since: '2026-03-01T12:00:00' })).toThrow('--since must be an ISO-8601 date')
    expect(() => filterQuery({ tenant: ' ' })).toThrow('--tenant must not be empty')
    expect(() => outputFormat('xml')).toThrow("--format must be one of: table, json, csv; got 'xml'")
  })

  it('takes the API from flags, then the environment, and requires a key', () => {
    expect(resolveQueryApiEndpoint({ apiKey: 'ops.s' }, {})).toEqual({
      url: 'http://127.0.0.1:8480',
      key: 'ops.s',
    })
    expect(resolveQueryApiEndpoint({}, { AUDIT_API_URL: 'http://api:1/', AUDIT_API_KEY: 'ops.s' })).toEqual({
      url: 'http://api:1',
      key: 'ops.s',
    })
    expect(() => resolveQueryApiEndpoint({}, {})).toThrow('no API key: pass --api-key')
    expect(() => resolveQueryApiEndpoint({ apiKey: 'nodot' }, {})).toThrow('<key id>.<secret>')
    expect(() => resolveQueryApiEndpoint({ apiKey: 'a.b', apiUrl: 'ftp://x' }, {})).toThrow('--api-url')
  })

  it("falls back to the running npm start's API and key, but never sends that key elsewhere", () => {
    const local = { url: 'http://127.0.0.1:41000', key: 'local-auditor.s3cret' }
    expect(resolveQueryApiEndpoint({}, {}, local)).toEqual(local)
    expect(resolveQueryApiEndpoint({ apiKey: 'ops.s' }, {}, local)).toEqual({ url: local.url, key: 'ops.s' })
    expect(() => resolveQueryApiEndpoint({ apiUrl: 'https://api.example' }, {}, local)).toThrow('no API key')
    expect(resolveQueryApiEndpoint({}, { AUDIT_API_URL: local.url }, local)).toEqual(local)
  })
})

describe('query output', () => {
  it('prints events as an aligned table and as CSV with quoting', () => {
    const listing = eventListing([event('e1', '2024-03-15T10:00:00.000Z')])
    expect(tableLines(listing, 200)).toEqual([
      'OCCURRED AT               TENANT  ACTOR               ACTION           OBJECT        OUTCOME  CHANGES',
      '2024-03-15T10:00:00.000Z  acme    u-7 (Sam, "Admin")  customer.update  customer/c-1  success  tier: "gold" → "platinum"',
    ])
    expect(csvLines(listing)).toEqual([
      'OCCURRED AT,TENANT,ACTOR,ACTION,OBJECT,OUTCOME,CHANGES',
      '2024-03-15T10:00:00.000Z,acme,"u-7 (Sam, ""Admin"")",customer.update,customer/c-1,success,"tier: ""gold"" → ""platinum"""',
    ])
  })
})

describe('query search', () => {
  it('pages through with the cursor up to --limit, and says when more match', async () => {
    const asked: string[] = []
    const pages = [
      {
        events: [event('e1', '2024-03-15T10:00:00.000Z'), event('e2', '2024-03-15T09:00:00.000Z')],
        next_cursor: 'c1',
      },
      { events: [event('e3', '2024-03-15T08:00:00.000Z')], next_cursor: 'c2' },
    ]
    const client: QueryApiClient = {
      get: <T>(path: string, query?: URLSearchParams) => {
        asked.push(`${path}?${query?.toString()}`)
        return Promise.resolve(pages.shift() as T)
      },
      post: () => Promise.reject(new QueryApiError(500, 'unused')),
    }
    const out: string[] = []
    const err: string[] = []
    await querySearchCommand({ filters: filterQuery({ actor: 'u-7' }), limit: 3, format: 'json' }, client, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    })
    expect(asked).toEqual(['/v1/events?actor=u-7&limit=3', '/v1/events?actor=u-7&limit=1&cursor=c1'])
    expect(out.map((line) => (JSON.parse(line) as ApiEvent).event_id)).toEqual(['e1', 'e2', 'e3'])
    expect(err).toEqual(['3 event(s); more match: raise --limit (now 3)'])
  })
})

describe('tail', () => {
  const settings = { lookbackMs: 60_000, rememberedIds: 3 }

  it('asks from the newest event seen less the look-back, and shows each event once', () => {
    let state = startTail(Date.parse('2024-03-15T10:00:00Z'))
    expect(tailSince(state, settings)).toEqual(new Date('2024-03-15T09:59:00Z'))
    const first = tailStep(
      state,
      [event('a', '2024-03-15T10:00:05.000Z'), event('b', '2024-03-15T10:00:07.000Z')],
      settings,
    )
    expect(first.fresh.map((e) => e.event_id)).toEqual(['a', 'b'])
    state = first.state
    expect(tailSince(state, settings)).toEqual(new Date('2024-03-15T09:59:07Z'))
    // b again, and c which arrived late but within the look-back.
    const second = tailStep(
      state,
      [event('b', '2024-03-15T10:00:07.000Z'), event('c', '2024-03-15T10:00:06.000Z')],
      settings,
    )
    expect(second.fresh.map((e) => e.event_id)).toEqual(['c'])
    expect(second.state.watermarkMs).toBe(Date.parse('2024-03-15T10:00:07Z'))
    // Only the last 3 ids are remembered.
    const third = tailStep(second.state, [event('d', '2024-03-15T10:00:08.000Z')], settings)
    expect([...third.state.shown]).toEqual(['b', 'c', 'd'])
  })

  it('polls until stopped, printing new events as they appear', async () => {
    const polls = [
      [event('a', '2024-03-15T10:00:01.000Z')],
      [event('a', '2024-03-15T10:00:01.000Z'), event('b', '2024-03-15T10:00:02.000Z')],
    ]
    const asked: string[] = []
    const client: QueryApiClient = {
      get: <T>(_path: string, query?: URLSearchParams) => {
        asked.push(query?.get('since') ?? '')
        return Promise.resolve({ events: polls.shift() ?? [], next_cursor: null } as T)
      },
      post: () => Promise.reject(new Error('unused')),
    }
    const out: string[] = []
    let sleeps = 0
    await tailCommand(
      { filters: new URLSearchParams('tenant=acme'), format: 'json', intervalMs: 1000, ...settings },
      client,
      { out: (line) => out.push(line), err: () => {} },
      {
        now: () => Date.parse('2024-03-15T10:00:00Z'),
        sleep: () => Promise.resolve(void sleeps++),
        stopped: () => sleeps >= 2,
      },
    )
    expect(out.map((line) => (JSON.parse(line) as ApiEvent).event_id)).toEqual(['a', 'b'])
    expect(asked).toEqual(['2024-03-15T09:59:00.000Z', '2024-03-15T09:59:01.000Z'])
  })
})

describe('a record kept at temporal level 1', () => {
  const io = () => {
    const lines = { out: [] as string[], err: [] as string[] }
    return { lines, io: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l) } }
  }
  const keptNote = 'kept at temporal level 1: only its latest change was stored'

  it('says so under its timeline and its state, and only for such a record', async () => {
    for (const kept of ['latest', 'all'] as const) {
      const client: QueryApiClient = {
        get: <T>(path: string) =>
          Promise.resolve(
            (path.endsWith('/timeline')
              ? { events: [event('e-1', '2026-03-16T13:12:00.000Z')], next_cursor: null, kept }
              : {
                  object: { type: 'customer', id: 'c-1', label: null },
                  tenant: 'acme',
                  at: '2026-03-17T00:00:00.000Z',
                  events: 1,
                  deleted: false,
                  kept,
                  fields: [],
                }) as T,
          ),
        post: () => Promise.reject(new Error('not used')),
      }
      const timeline = io()
      await queryTimelineCommand(
        { objectType: 'customer', objectId: 'c-1', limit: 10, format: 'table' },
        client,
        timeline.io,
      )
      const state = io()
      await queryStateCommand(
        { objectType: 'customer', objectId: 'c-1', filters: new URLSearchParams(), format: 'table' },
        client,
        state.io,
      )
      for (const said of [timeline.lines.err.join('\n'), state.lines.err.join('\n')]) {
        if (kept === 'latest') expect(said).toContain(keptNote)
        else expect(said).not.toContain(keptNote)
      }
    }
  })
})
