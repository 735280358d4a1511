import type { AuditEvent } from '@audit-pipeline/event-model'
import type { EventField } from './eventFields.js'
import { compileValueMatcher } from './valuePattern.js'

/** What happens to an event: sent to every listed topic, or dropped and counted under the reason. */
export type RouteOutcome =
  | { readonly kind: 'send'; readonly topics: readonly string[] }
  | { readonly kind: 'drop'; readonly reason: string }

/** The route that took an event and what it does with it. */
export type RoutingDecision = { readonly route: string; readonly outcome: RouteOutcome }

/** The route that takes every event no listed route matches. */
export const defaultRouteName = 'default'

/** One condition of a route, validated: the field it reads and the values it accepts. */
export type ConditionSpec = {
  /** The path as written in the config, e.g. `attributes["e.mail"]`. */
  readonly written: string
  /** The same path in one spelling, e.g. `attributes.e.mail`, to compare conditions. */
  readonly key: string
  readonly field: EventField
  readonly patterns: readonly string[]
}

/** One route as the config describes it, validated. */
export type RouteSpec = {
  readonly name: string
  readonly conditions: readonly ConditionSpec[]
  readonly outcome: RouteOutcome
}

export type RoutesSpec = { readonly routes: readonly RouteSpec[]; readonly default: RouteOutcome }

export type Route = {
  readonly name: string
  /** Every condition holds (they are checked in the order written). */
  readonly matches: (event: AuditEvent) => boolean
  /** Built once and frozen, so routing an event allocates nothing. */
  readonly decision: RoutingDecision
}

/** A validated, compiled routes config: the routes in order, first match wins, then the default. */
export type RouteTable = {
  /** The file the table was read from, for logs. */
  readonly file: string
  readonly routes: readonly Route[]
  readonly defaultDecision: RoutingDecision
}

export function compileRouteTable(spec: RoutesSpec, file: string): RouteTable {
  return Object.freeze({
    file,
    routes: Object.freeze(
      spec.routes.map((route) =>
        Object.freeze({
          name: route.name,
          matches: compileConditions(route.conditions),
          decision: frozenDecision(route.name, route.outcome),
        }),
      ),
    ),
    defaultDecision: frozenDecision(defaultRouteName, spec.default),
  })
}

function frozenDecision(route: string, outcome: RouteOutcome): RoutingDecision {
  return Object.freeze({
    route,
    outcome: Object.freeze(
      outcome.kind === 'send'
        ? { kind: outcome.kind, topics: Object.freeze([...outcome.topics]) }
        : { kind: outcome.kind, reason: outcome.reason },
    ),
  })
}

type EventPredicate = (event: AuditEvent) => boolean

function compileConditions(conditions: readonly ConditionSpec[]): EventPredicate {
  const predicates = conditions.map(compileCondition)
  const [only] = predicates
  if (predicates.length === 1 && only) return only
  return (event) => {
    for (const holds of predicates) if (!holds(event)) return false
    return true
  }
}

function compileCondition({ field, patterns }: ConditionSpec): EventPredicate {
  const fits = compileValueMatcher(patterns)
  if (field.kind === 'text') {
    const read = field.read
    return (event) => {
      const value = read(event)
      return typeof value === 'string' && fits(value)
    }
  }
  const read = field.read
  return (event) => {
    const items = read(event)
    if (!items) return false
    for (const item of items) if (fits(item)) return true
    return false
  }
}
