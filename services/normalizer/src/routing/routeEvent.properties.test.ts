import fc from 'fast-check'
import { actorTypes, severities, type AuditEvent } from '@audit-pipeline/event-model'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { parseRoutes } from './parseRoutes.js'
import { RoutesConfigError } from './routesConfigError.js'
import { routeEvent } from './routeEvent.js'
import { defaultRouteName, type RouteOutcome } from './routeTable.js'

/**
 * Random configs over a small vocabulary (so routes and events often meet), written as YAML or
 * JSON, against random events. The compiled router must agree with a naive reading of the
 * semantics: the first route whose conditions all hold, else the default.
 */
const vocabulary = {
  category: ['business', 'security', 'platform', 'debug', 'marketing', '*'],
  tenant: ['witify', 'acme', 'ac*', '*'],
  severity: [...severities, 'warn*', '*'],
  'action.name': ['ticket.create', 'ticket.assign', 'email.send', 'ticket.*', '*.send', '*'],
  'actor.roles': ['agent', 'admin', 'admin-*', '*'],
  'attributes.channel': ['web', 'api', 'w*', '*'],
  'on_behalf_of.type': [...actorTypes, '*'],
} as const
type ConditionField = keyof typeof vocabulary
const fields = Object.keys(vocabulary) as ConditionField[]
const topics = ['audit.normalized', 'audit.forward', 'audit.security']

const condition = fc
  .constantFrom(...fields)
  .chain((field) =>
    fc.tuple(
      fc.constant(field),
      fc.uniqueArray(fc.constantFrom(...vocabulary[field]), { minLength: 1, maxLength: 3 }),
    ),
  )

const outcome: fc.Arbitrary<RouteOutcome> = fc.oneof(
  fc
    .uniqueArray(fc.constantFrom(...topics), { minLength: 1 })
    .map((to) => ({ kind: 'send' as const, topics: to })),
  fc.constantFrom('noise', 'not kept').map((reason) => ({ kind: 'drop' as const, reason })),
)

const routeSpec = fc.record({
  conditions: fc.uniqueArray(condition, { minLength: 1, maxLength: 3, selector: ([field]) => field }),
  outcome,
})

const config = fc.record({ routes: fc.array(routeSpec, { maxLength: 6 }), default: outcome })

type Config = typeof config extends fc.Arbitrary<infer T> ? T : never

const actionOf = (o: RouteOutcome) => (o.kind === 'send' ? { to: o.topics } : { drop: { reason: o.reason } })

function configText(spec: Config, format: 'yaml' | 'json'): string {
  const document = {
    routes: spec.routes.map((route, index) => ({
      name: `route-${index}`,
      match: Object.fromEntries(route.conditions.map(([field, values]) => [field, values])),
      ...actionOf(route.outcome),
    })),
    default: actionOf(spec.default),
  }
  return format === 'json' ? JSON.stringify(document, null, 2) : stringify(document)
}

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values)
const base: AuditEvent = {
  event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01',
  occurred_at: 1710409500000,
  recorded_at: 1710409500412,
  tenant: 'witify',
  source: { service: 'helpdesk-api', instance: null, version: null },
  actor: {
    type: 'user',
    id: 'u-1001',
    display_name: null,
    roles: [],
    ip: null,
    user_agent: null,
    session_id: null,
  },
  on_behalf_of: null,
  action: { kind: 'create', name: 'ticket.create' },
  category: 'business',
  object: { type: 'ticket', id: '9548-B1', id2: null, id3: null, label: null },
  changes: [],
  before: null,
  after: null,
  outcome: { status: 'success', reason: null },
  severity: 'info',
  correlation: { trace_id: null, request_id: null },
  attributes: {},
  sensitive_fields: [],
}

const event: fc.Arbitrary<AuditEvent> = fc
  .record({
    category: pick(['business', 'security', 'platform', 'debug', 'marketing']),
    tenant: pick(['witify', 'acme', 'acme-eu', 'other']),
    severity: pick(severities),
    name: pick(['ticket.create', 'ticket.assign', 'email.send', 'sms.send', 'session.login']),
    roles: fc.uniqueArray(pick(['agent', 'admin', 'admin-eu', 'supervisor']), { maxLength: 3 }),
    channel: fc.option(pick(['web', 'api', 'wap', '']), { nil: undefined }),
    onBehalfOf: fc.option(pick(actorTypes), { nil: null }),
  })
  .map((e): AuditEvent => ({
    ...base,
    category: e.category,
    tenant: e.tenant,
    severity: e.severity,
    action: { kind: 'operation', name: e.name },
    actor: { ...base.actor, roles: e.roles },
    attributes: e.channel === undefined ? {} : { channel: e.channel },
    on_behalf_of: e.onBehalfOf === null ? null : { ...base.actor, type: e.onBehalfOf, id: 'scheduler' },
  }))

/** The semantics said the slow way: read the field, compare with regular expressions. */
function referenceValue(event: AuditEvent, field: ConditionField): string | readonly string[] | undefined {
  switch (field) {
    case 'category':
    case 'tenant':
    case 'severity':
      return event[field]
    case 'action.name':
      return event.action.name
    case 'actor.roles':
      return event.actor.roles
    case 'attributes.channel':
      return event.attributes['channel']
    case 'on_behalf_of.type':
      return event.on_behalf_of?.type
  }
}

const fitsGlob = (glob: string, value: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  ).test(value)

function routeHolds(route: Config['routes'][number], event: AuditEvent): boolean {
  return route.conditions.every(([field, values]) => {
    const value = referenceValue(event, field)
    const items = value === undefined ? [] : typeof value === 'string' ? [value] : value
    return items.some((item) => values.some((glob) => fitsGlob(glob, item)))
  })
}

function referenceRoute(spec: Config, event: AuditEvent): { route: string; outcome: RouteOutcome } {
  const index = spec.routes.findIndex((route) => routeHolds(route, event))
  const chosen = spec.routes[index]
  return chosen
    ? { route: `route-${index}`, outcome: chosen.outcome }
    : { route: defaultRouteName, outcome: spec.default }
}

/** Configs the parser refuses as a whole (a route that can never match) are skipped. */
function parseOrSkip(text: string, format: 'yaml' | 'json') {
  try {
    return parseRoutes(text, { file: `routes.${format}` })
  } catch (error) {
    if (error instanceof RoutesConfigError && error.problems.every((p) => /never/.test(p.message)))
      return undefined
    throw error
  }
}

describe('routeEvent properties', () => {
  it('always decides, with a route name from the table, as the naive reading of the config does', () => {
    fc.assert(
      fc.property(
        config,
        pick(['yaml', 'json'] as const),
        fc.array(event, { minLength: 1, maxLength: 20 }),
        (spec, format, events) => {
          const table = parseOrSkip(configText(spec, format), format)
          fc.pre(table !== undefined)
          const names = new Set([...table.routes.map((route) => route.name), defaultRouteName])
          for (const e of events) {
            const decision = routeEvent(table, e)
            expect(names.has(decision.route)).toBe(true)
            expect(decision).toEqual(referenceRoute(spec, e))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses a route as unreachable only when an earlier route takes every event it matches', () => {
    fc.assert(
      fc.property(config, fc.array(event, { minLength: 1, maxLength: 20 }), (spec, events) => {
        let refused: RoutesConfigError | undefined
        try {
          parseRoutes(configText(spec, 'yaml'), { file: 'routes.yaml' })
        } catch (error) {
          if (!(error instanceof RoutesConfigError)) throw error
          refused = error
        }
        fc.pre(refused !== undefined)
        for (const problem of refused.problems) {
          const index = Number(/^routes\[(\d+)\]\.match$/.exec(problem.path)?.[1])
          const route = spec.routes[index]
          if (!route) throw new Error(`unexpected problem ${problem.path}: ${problem.message}`)
          const earlier = spec.routes.slice(0, index)
          for (const e of events) {
            if (problem.message.startsWith('matches every event')) expect(routeHolds(route, e)).toBe(true)
            else if (routeHolds(route, e)) expect(earlier.some((other) => routeHolds(other, e))).toBe(true)
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})
