import type { RouteTable } from './routeTable.js'

/**
 * Every topic some route (the default included) can send to, each once, in the order the config
 * first names them: what the service creates or checks at start-up.
 */
export function routeTopics(table: RouteTable): readonly string[] {
  const topics = new Set<string>()
  for (const { outcome } of [...table.routes.map((route) => route.decision), table.defaultDecision]) {
    if (outcome.kind === 'send') for (const topic of outcome.topics) topics.add(topic)
  }
  return [...topics]
}
