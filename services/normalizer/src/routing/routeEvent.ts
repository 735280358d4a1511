import type { AuditEvent } from '@audit-pipeline/event-model'
import type { RouteTable, RoutingDecision } from './routeTable.js'

/**
 * Where an event goes: the first route whose conditions all hold, else the default route, so
 * every event gets a decision. The decision is the route's own frozen object (no allocation per
 * event); do not expect a fresh one per call.
 */
export function routeEvent(table: RouteTable, event: AuditEvent): RoutingDecision {
  for (const route of table.routes) if (route.matches(event)) return route.decision
  return table.defaultDecision
}
