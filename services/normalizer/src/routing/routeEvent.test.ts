import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { parseRoutes } from './parseRoutes.js'
import { routeEvent } from './routeEvent.js'
import { routeTopics } from './routeTopics.js'

/** Ticket 9548-B1 created by Alex Mercer (schemas/examples), in canonical form. */
const ticketCreated: AuditEvent = {
  recorded_at: 0,
  ...parseEventJson(JSON.parse(ticketExampleLines()[0] ?? '')),
}

const login: AuditEvent = {
  ...ticketCreated,
  category: 'security',
  action: { kind: 'operation', name: 'session.login' },
  object: { type: 'session', id: 's-88a1', id2: null, id3: null, label: null },
  attributes: {},
}

const routes = (yaml: string) => parseRoutes(yaml, { file: 'routes.yaml' })

const table = routes(`
routes:
  - name: drop-debug
    match: { category: debug }
    drop: { reason: debug events are not kept }
  - name: denied-tickets
    match: { action.name: 'ticket.*', outcome.status: [denied, failure] }
    to: [audit.normalized, audit.forward, audit.security]
  - name: security
    match: { category: security }
    to: [audit.normalized, audit.forward]
  - name: web-tickets
    match: { object.type: ticket, attributes.channel: web }
    to: [audit.web]
  - name: delegated
    match: { on_behalf_of.type: service }
    to: [audit.delegated]
  - name: supervisors
    match: { actor.roles: [supervisor, 'admin*'] }
    to: [audit.supervisors]
  - name: secrets
    match: { sensitive_fields: 'customer.*' }
    drop: { reason: events with customer secrets are not stored }
default:
  to: [audit.normalized]
`)

const route = (event: AuditEvent) => routeEvent(table, event)

describe('routeEvent', () => {
  it('gives an event no route matches to the default route', () => {
    const fromApi = { ...ticketCreated, attributes: { channel: 'api' } }
    expect(route(fromApi)).toEqual({
      route: 'default',
      outcome: { kind: 'send', topics: ['audit.normalized'] },
    })
  })

  it('sends to every topic of the route (fan-out)', () => {
    expect(route(login)).toEqual({
      route: 'security',
      outcome: { kind: 'send', topics: ['audit.normalized', 'audit.forward'] },
    })
  })

  it('drops with the route and its reason', () => {
    expect(route({ ...login, category: 'debug' })).toEqual({
      route: 'drop-debug',
      outcome: { kind: 'drop', reason: 'debug events are not kept' },
    })
  })

  it('lets the first matching route take the event', () => {
    // A denied ticket action on the web fits denied-tickets and web-tickets: the first one wins.
    const denied = { ...ticketCreated, outcome: { status: 'denied' as const, reason: 'not the assignee' } }
    expect(route(denied).route).toBe('denied-tickets')
    expect(route(ticketCreated).route).toBe('web-tickets')
    // A debug event matches nothing after drop-debug, whatever else it is.
    expect(route({ ...denied, category: 'debug' }).route).toBe('drop-debug')
  })

  it('requires every condition of a route', () => {
    const ticketFromApi = { ...ticketCreated, attributes: { channel: 'api' } }
    const orderOnWeb = { ...ticketCreated, object: { ...ticketCreated.object, type: 'order' } }
    expect([route(ticketFromApi).route, route(orderOnWeb).route]).toEqual(['default', 'default'])
  })

  it('matches nested fields, and never a field the event does not have', () => {
    const byScheduler = {
      ...ticketCreated,
      attributes: {},
      on_behalf_of: { ...ticketCreated.actor, type: 'service' as const, id: 'scheduler' },
    }
    expect(route(byScheduler).route).toBe('delegated')
    expect(route({ ...byScheduler, on_behalf_of: null }).route).toBe('default')
  })

  it('matches a list field when any item fits, globs included', () => {
    const actor = ticketCreated.actor
    const withRoles = (roles: string[]) => ({ ...ticketCreated, attributes: {}, actor: { ...actor, roles } })
    expect(route(withRoles(['agent', 'supervisor'])).route).toBe('supervisors')
    expect(route(withRoles(['admin-eu'])).route).toBe('supervisors')
    expect(route(withRoles(['agent'])).route).toBe('default')
    expect(route(withRoles([])).route).toBe('default')
    expect(route({ ...ticketCreated, attributes: {}, sensitive_fields: ['customer.email'] })).toEqual({
      route: 'secrets',
      outcome: { kind: 'drop', reason: 'events with customer secrets are not stored' },
    })
  })

  it('matches globs on the whole value', () => {
    const withAction = (name: string) => ({
      ...ticketCreated,
      attributes: {},
      action: { kind: 'operation' as const, name },
      outcome: { status: 'failure' as const, reason: null },
    })
    expect(route(withAction('ticket.assign')).route).toBe('denied-tickets')
    expect(route(withAction('ticket.sla.breach')).route).toBe('denied-tickets')
    expect(route(withAction('ticketing.assign')).route).toBe('default')
    expect(route(withAction('my.ticket.assign')).route).toBe('default')
  })

  it('reads attributes by key, quoted or with dots', () => {
    const byKey = routes(`
routes:
  - name: http-post
    match: { attributes.http.method: POST }
    to: [audit.http]
  - name: mail
    match: { 'attributes["e.mail"]': 'yes' }
    to: [audit.mail]
default: { drop: { reason: not routed } }
`)
    const withAttributes = (attributes: Record<string, string>) => routeEvent(byKey, { ...login, attributes })
    expect(withAttributes({ 'http.method': 'POST' }).route).toBe('http-post')
    expect(withAttributes({ 'e.mail': 'yes' }).route).toBe('mail')
    expect(withAttributes({ http: 'POST' })).toEqual({
      route: 'default',
      outcome: { kind: 'drop', reason: 'not routed' },
    })
  })

  it('hands out the route’s own decision: nothing is allocated per event', () => {
    expect(route(login)).toBe(route({ ...login, event_id: 'another' }))
    expect(route(login)).toBe(table.routes[2]?.decision)
    expect(route({ ...login, category: 'marketing' })).toBe(table.defaultDecision)
  })
})

describe('routeTopics', () => {
  it('lists every topic a route or the default can send to, once, in the order first named', () => {
    expect(routeTopics(table)).toEqual([
      'audit.normalized',
      'audit.forward',
      'audit.security',
      'audit.web',
      'audit.delegated',
      'audit.supervisors',
    ])
  })

  it('lists nothing when every route drops', () => {
    expect(routeTopics(routes('default: { drop: { reason: maintenance } }'))).toEqual([])
  })
})
