import { pipelineTopics, type DocumentPath, type PointAt } from '@audit-pipeline/config'
import { topicCollisionKey } from './kafkaTopicName.js'
import type { ConditionSpec, RouteSpec, RoutesSpec } from './routeTable.js'
import { globWildcard, patternCovers } from './valuePattern.js'

/** A problem found across routes, located by its path in the document. */
export type RoutesCheckProblem = { path: DocumentPath; pointAt: PointAt; message: string }

/** The line a document path starts on, to name the other route or topic in a message. */
export type LineOf = (path: DocumentPath) => number

/**
 * The rules no single route can break alone: unique names, no route that can never match, no two
 * topics Kafka cannot hold side by side. A route that can never match is an error rather than a
 * warning: it is always a mistake (usually routes in the wrong order), and first-match order is
 * the one thing a reader of the file must be able to trust.
 */
export function checkRoutes(spec: RoutesSpec, lineOf: LineOf): RoutesCheckProblem[] {
  return [
    ...duplicateNames(spec, lineOf),
    ...unreachableRoutes(spec, lineOf),
    ...topicCollisions(spec, lineOf),
    ...reservedTopics(spec),
  ]
}

/**
 * The topics only the pipeline's own services write: the alerts topic (its webhooks go to ops),
 * the access records', the checkpoints'. A route to one would let any producer's event into it.
 */
export const writtenByThePipelineOnly: readonly string[] = [
  pipelineTopics.alerts.name,
  pipelineTopics.access.name,
  'audit.checkpoints',
]

function reservedTopics(spec: RoutesSpec): RoutesCheckProblem[] {
  const outcomes = [
    ...spec.routes.map((route, index) => ({ outcome: route.outcome, path: ['routes', index, 'to'] })),
    { outcome: spec.default, path: ['default', 'to'] },
  ]
  const reserved = new Set(writtenByThePipelineOnly.map(topicCollisionKey))
  return outcomes.flatMap(({ outcome, path }) =>
    outcome.kind !== 'send'
      ? []
      : outcome.topics.flatMap((topic, index) =>
          reserved.has(topicCollisionKey(topic))
            ? [
                {
                  path: [...path, index],
                  pointAt: 'value' as const,
                  message: `'${topic}' is written only by the pipeline's own services (alerts, access records, checkpoints): no route may send producers' events there`,
                },
              ]
            : [],
        ),
  )
}

function duplicateNames(spec: RoutesSpec, lineOf: LineOf): RoutesCheckProblem[] {
  const firstIndex = new Map<string, number>()
  return spec.routes.flatMap((route, index) => {
    const earlier = firstIndex.get(route.name)
    if (earlier === undefined) {
      firstIndex.set(route.name, index)
      return []
    }
    const earlierPath = ['routes', earlier, 'name']
    return [
      {
        path: ['routes', index, 'name'],
        pointAt: 'value',
        message: `'${route.name}' is already the name of routes[${earlier}] (line ${lineOf(earlierPath)})`,
      },
    ]
  })
}

function unreachableRoutes(spec: RoutesSpec, lineOf: LineOf): RoutesCheckProblem[] {
  const problems: RoutesCheckProblem[] = []
  for (const [index, route] of spec.routes.entries()) {
    const path = ['routes', index, 'match']
    if (matchesEveryEvent(route)) {
      problems.push({
        path,
        pointAt: 'value',
        message:
          'matches every event, so the routes after it and the default route are never used: ' +
          'give its action to default instead',
      })
      // Everything after it is unreachable for that one reason: say it once.
      return problems
    }
    const shadowIndex = spec.routes.slice(0, index).findIndex((earlier) => shadows(earlier, route))
    const shadow = spec.routes[shadowIndex]
    if (shadow) {
      problems.push({
        path,
        pointAt: 'value',
        message:
          `can never match: every event it matches is taken first by route '${shadow.name}' ` +
          `(routes[${shadowIndex}], line ${lineOf(['routes', shadowIndex])}); first match wins, ` +
          'so put the narrower route first',
      })
    }
  }
  return problems
}

/** `*` on a field every event has holds for every event (`*` matches the empty string too). */
function isVacuous(condition: ConditionSpec): boolean {
  return (
    condition.field.kind === 'text' &&
    condition.field.alwaysPresent &&
    condition.patterns.includes(globWildcard)
  )
}

function matchesEveryEvent(route: RouteSpec): boolean {
  return route.conditions.every(isVacuous)
}

/**
 * Does every event `later` matches also match `earlier`? True only when sure: each condition of
 * `earlier` is vacuous, or `later` has one on the same field whose values all fit it.
 */
function shadows(earlier: RouteSpec, later: RouteSpec): boolean {
  return earlier.conditions.every((wide) => {
    if (isVacuous(wide)) return true
    const narrow = later.conditions.find((condition) => condition.key === wide.key)
    return narrow !== undefined && narrow.patterns.every((pattern) => patternCovers(wide.patterns, pattern))
  })
}

function topicCollisions(spec: RoutesSpec, lineOf: LineOf): RoutesCheckProblem[] {
  const outcomes = [
    ...spec.routes.map((route, index) => ({ outcome: route.outcome, path: ['routes', index, 'to'] })),
    { outcome: spec.default, path: ['default', 'to'] },
  ]
  const seen = new Map<string, { topic: string; path: DocumentPath }>()
  const problems: RoutesCheckProblem[] = []
  for (const { outcome, path } of outcomes) {
    if (outcome.kind !== 'send') continue
    for (const [index, topic] of outcome.topics.entries()) {
      const key = topicCollisionKey(topic)
      const earlier = seen.get(key)
      if (!earlier) seen.set(key, { topic, path: [...path, index] })
      else if (earlier.topic !== topic) {
        problems.push({
          path: [...path, index],
          pointAt: 'value',
          message:
            `'${topic}' and '${earlier.topic}' (line ${lineOf(earlier.path)}) cannot both exist: ` +
            "Kafka treats '.' and '_' in topic names alike",
        })
      }
    }
  }
  return problems
}
