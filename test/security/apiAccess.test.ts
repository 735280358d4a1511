import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import {
  allEvents,
  bearer,
  emailChange,
  queryApiFixture,
} from '../../services/query-api/src/testSupport/queryApiFixture.js'

describe('the API around the queries', () => {
  it('asks for a key on every path that reaches a route, however the path is written', async () => {
    const { app, records } = await queryApiFixture()
    const paths = [
      '/v%31/events',
      '/%761/events',
      '/v1/%65vents',
      '/v1/events/',
      '//v1/events',
      '/v1//events',
      '/V1/events',
      '/v1/./events',
      '/v1/%2e/events',
      '/v1/events;tenant=acme',
      '/v1/events%3Ftenant=acme',
      '/openapi.json/../v1/events',
      '/v1/objects/ticket/9548-B1/timeline',
      '/v%31/objects/ticket/9548-B1/timeline',
      '/v1/whoami',
      '/v%31/whoami',
      '/v1/export?format=csv',
      '/v%31/export?format=csv',
      '/nowhere',
    ]
    for (const url of paths) {
      const response = await app.inject({ method: 'GET', url })
      expect([401, 404], `${url} → ${response.statusCode} ${response.body.slice(0, 200)}`).toContain(
        response.statusCode,
      )
      for (const event of allEvents) expect(response.body, url).not.toContain(event.event_id)
    }
    // The encoded path is the route itself: with no key it is a refusal that is recorded.
    const encoded = await app.inject({ method: 'GET', url: '/v%31/events' })
    expect(encoded.statusCode).toBe(401)
    expect(records.some((record) => record.status === 401 && record.endpoint === 'GET /v1/events')).toBe(true)
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200)
  })

  it('limits failed authentications per address and requests per key, with Retry-After', async () => {
    const { app, records } = await queryApiFixture({
      limits: { authFailuresPerMinute: 5, requestsPerMinute: 8 },
    })
    const guesses = []
    for (let n = 0; n < 12; n++) {
      const headers = { authorization: `Bearer acme-auditor.guess-${n}` }
      guesses.push(await app.inject({ method: 'GET', url: '/v1/events', headers }))
    }
    const statuses = guesses.map((response) => response.statusCode)
    expect(statuses.filter((status) => status === 401)).toHaveLength(5)
    expect(statuses.filter((status) => status === 429)).toHaveLength(7)
    const limited = guesses.find((response) => response.statusCode === 429)!
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.json<{ message: string }>().message).toMatch(/too many failed authentications from/)
    // Only the guesses that were evaluated left records: an attacker cannot flood the trail.
    expect(records.filter((record) => record.status === 401)).toHaveLength(5)

    // The guessing address is held off even with a valid key; the analyst is elsewhere.
    const blocked = await app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer('analyst') })
    expect(blocked.statusCode).toBe(429)
    const elsewhere = { remoteAddress: '127.0.0.2' }
    const used = []
    for (let n = 0; n < 10; n++) {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/whoami',
        headers: bearer('analyst'),
        ...elsewhere,
      })
      used.push(response.statusCode)
    }
    expect(used).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429, 429])
    // Another key has its own allowance.
    expect(
      (await app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer('auditor'), ...elsewhere }))
        .statusCode,
    ).toBe(200)
  })

  it("files refusals under the pipeline's tenant unless the key may read the tenant named", async () => {
    const { app, records } = await queryApiFixture()
    await app.inject({
      method: 'GET',
      url: '/v1/events?tenant=acme',
      headers: { authorization: 'Bearer nobody.x' },
    })
    await app.inject({ method: 'GET', url: '/v1/events?tenant=witify', headers: bearer('acmeAnalyst') })
    await app.inject({ method: 'GET', url: '/v1/events?tenant=acme', headers: bearer('acmeAnalyst') })
    await app.inject({
      method: 'GET',
      url: `/v1/events?tenant=acme&actor=${'x'.repeat(10_000)}`,
      headers: { authorization: `Bearer ${'k'.repeat(5_000)}.secret`, 'user-agent': 'u'.repeat(5_000) },
    })
    expect(records.map((record) => [record.status, record.tenant])).toEqual([
      [401, undefined],
      [403, undefined],
      [200, 'acme'],
      [401, undefined],
    ])
    const flood = records[3]!
    expect(String(flood.filters['actor']).length).toBeLessThan(4_200)
    expect((flood.keyId ?? '').length).toBeLessThan(100)
    expect(flood.userAgent!.length).toBeLessThan(300)
  })

  it('refuses oversized input before reading it: a 5 MB body, statement or filter value', async () => {
    const { app, records } = await queryApiFixture()
    const fiveMegabytes = 'x'.repeat(5 * 1024 * 1024)
    const body = await app.inject({
      method: 'POST',
      url: '/v1/sql',
      headers: { ...bearer('auditor'), 'content-type': 'application/json' },
      payload: JSON.stringify({ sql: `SELECT '${fiveMegabytes}'` }),
    })
    expect(body.statusCode).toBe(413)
    const statement = await app.inject({
      method: 'POST',
      url: '/v1/sql',
      headers: bearer('auditor'),
      payload: { sql: `SELECT '${'x'.repeat(200_000)}'` },
    })
    expect(statement.statusCode).toBe(400)
    expect(statement.json<{ message: string }>().message).toMatch(/sql/)
    const filter = await app.inject({
      method: 'GET',
      url: `/v1/events?actor=${fiveMegabytes}`,
      headers: bearer('analyst'),
    })
    expect(filter.statusCode).toBe(400)
    expect(filter.json<{ message: string }>().message).toMatch(/actor/)
    // Each refusal is on record, and no record holds the megabytes.
    expect(records.map((record) => record.status)).toEqual([413, 400, 400])
    for (const record of records) expect(JSON.stringify(record).length).toBeLessThan(20_000)
  })

  it('records the SQL with its parameters', async () => {
    const { app, records } = await queryApiFixture()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/sql',
      headers: bearer('auditor'),
      payload: {
        sql: 'SELECT count() AS n FROM audit_events WHERE tenant = {t:String}',
        params: { t: 'acme' },
      },
    })
    expect(response.statusCode).toBe(200)
    expect(records.at(-1)?.filters).toEqual({
      sql: 'SELECT count() AS n FROM audit_events WHERE tenant = {t:String}',
      sql_params: { t: 'acme' },
    })
  })

  it('neutralises formula cells in CSV exports', async () => {
    const formulas = ['=HYPERLINK(A1)', '=1+2', '+1+1', '-2+3', '@SUM(A1:A2)', '\t=1']
    const events: AuditEvent[] = formulas.map((name, index) => ({
      ...emailChange,
      event_id: `00000000-0000-4000-8000-${String(900 + index).padStart(12, '0')}`,
      actor: { ...emailChange.actor, display_name: name },
    }))
    const { app } = await queryApiFixture({ events })
    const csv = await app.inject({ method: 'GET', url: '/v1/export?format=csv', headers: bearer('auditor') })
    expect(csv.statusCode).toBe(200)
    for (const formula of formulas) {
      expect(csv.body).toContain(`'${formula}`)
      expect(csv.body).not.toMatch(
        new RegExp(`(^|,)"?${formula.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'),
      )
    }
  })
})
