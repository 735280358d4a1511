import { auditTables } from '@audit-pipeline/clickhouse-schema'
import type { AccessScope } from '../access/accessScope.js'
import { eventsView } from './eventColumns.js'
import { eventConditions, whereClause, type EventFilters } from './eventFilters.js'
import type { ParameterizedQuery } from './eventQueries.js'
import { dateTimeParam } from './time.js'

/** What counts may be grouped by, and the column each reads: the only identifiers used. */
export const countDimensions = {
  tenant: 'tenant',
  actor: 'actor_id',
  action: 'action_name',
  action_kind: 'action_kind',
  category: 'category',
  outcome: 'outcome_status',
  object_type: 'object_type',
} as const
export type CountDimension = keyof typeof countDimensions

export const timeBuckets = ['hour', 'day', 'none'] as const
export type TimeBucket = (typeof timeBuckets)[number]

export type CountRequest = {
  filters: EventFilters
  by: readonly CountDimension[]
  bucket: TimeBucket
  /** Count each event once (from the events) rather than deliveries (from the hourly table). */
  exact: boolean
  maxGroups: number
}

/** Where counts come from; the answer says which, since the hourly table counts deliveries. */
export type CountSource = typeof auditTables.actionsHourly | typeof eventsView

// What audit_actions_hourly keeps per row; anything else needs the events.
const hourlyDimensions: ReadonlySet<CountDimension> = new Set([
  'tenant',
  'action',
  'action_kind',
  'category',
  'outcome',
])
const hourlyFilters: ReadonlySet<keyof EventFilters> = new Set([
  'tenant',
  'action',
  'actionKind',
  'category',
  'outcome',
  'since',
  'until',
])

const onTheHour = (date: Date | undefined) => date === undefined || date.getTime() % 3_600_000 === 0

/**
 * The hourly table answers when it holds every dimension and filter asked for, and the time range
 * falls on whole hours (it cannot split an hour); otherwise, or when `exact`, the events do.
 */
export function countSourceFor(request: CountRequest): CountSource {
  const filtersKept = Object.entries(request.filters)
    .filter(([, value]) => value !== undefined)
    .every(([name]) => hourlyFilters.has(name as keyof EventFilters))
  const hourly =
    !request.exact &&
    request.by.every((dimension) => hourlyDimensions.has(dimension)) &&
    filtersKept &&
    onTheHour(request.filters.since) &&
    onTheHour(request.filters.until)
  return hourly ? auditTables.actionsHourly : eventsView
}

/** Counts grouped by the dimensions and time bucket asked for, in bucket then dimension order. */
export function countQuery(
  request: CountRequest,
  scope: AccessScope,
): ParameterizedQuery & { source: CountSource } {
  const source = countSourceFor(request)
  const hourly = source === auditTables.actionsHourly
  const time = hourly ? 'hour' : 'occurred_at'
  const bucketExpression =
    request.bucket === 'hour'
      ? `toStartOfHour(${time})`
      : request.bucket === 'day'
        ? `toStartOfDay(${time})`
        : undefined
  const groups = [
    ...(bucketExpression ? [`${bucketExpression} AS bucket`] : []),
    ...request.by.map((dimension) => `${countDimensions[dimension]} AS ${dimension}`),
  ]
  const groupNames = [...(bucketExpression ? ['bucket'] : []), ...request.by]
  const where = hourly ? hourlyConditions(request.filters, scope) : eventConditions(request.filters, scope)
  const counted = hourly ? 'sum(events)' : 'count()'
  return {
    source,
    query: `SELECT ${[...groups, `${counted} AS events`].join(', ')}
FROM ${source}
${whereClause(where)}${groupNames.length > 0 ? `\nGROUP BY ${groupNames.join(', ')}\nORDER BY ${groupNames.join(', ')}` : ''}
LIMIT {max_groups:UInt32}`,
    params: { ...where.params, max_groups: request.maxGroups + 1 },
  }
}

/** eventConditions' equality filters, with the time range on the `hour` column. */
function hourlyConditions(filters: EventFilters, scope: AccessScope) {
  const { since, until, ...rest } = filters
  const where = eventConditions(rest, scope)
  if (since) {
    where.conditions.push(`hour >= {f_since:DateTime('UTC')}`)
    where.params['f_since'] = dateTimeParam(since)
  }
  if (until) {
    where.conditions.push(`hour < {f_until:DateTime('UTC')}`)
    where.params['f_until'] = dateTimeParam(until)
  }
  return where
}
