import type { AccessScope } from '../access/accessScope.js'
import type { PageCursor } from './cursor.js'
import { answerColumns, eventsView } from './eventColumns.js'
import {
  afterCursor,
  combine,
  eventConditions,
  whereClause,
  type Conditions,
  type EventFilters,
  type SortOrder,
} from './eventFilters.js'

export type ParameterizedQuery = { query: string; params: Record<string, unknown> }

export type EventPageRequest = {
  filters: EventFilters
  order: SortOrder
  /** Rows on the page; one more is read to tell whether another page follows. */
  limit: number
  cursor?: PageCursor
  /** Conditions of the endpoint itself (alerts: object type and action), ANDed in. */
  extra?: Conditions
}

/** One page of events, each once, in (occurred_at, event_id) order. */
export function eventPageQuery(request: EventPageRequest, scope: AccessScope): ParameterizedQuery {
  const where = combine(
    eventConditions(request.filters, scope),
    request.extra ?? { conditions: [], params: {} },
    request.cursor ? afterCursor(request.cursor, request.order) : { conditions: [], params: {} },
  )
  const direction = request.order === 'asc' ? 'ASC' : 'DESC'
  return {
    query: `SELECT ${answerColumns.join(', ')}
FROM ${eventsView}
${whereClause(where)}
ORDER BY occurred_at ${direction}, event_id ${direction}
LIMIT {page_rows:UInt32}`,
    params: { ...where.params, page_rows: request.limit + 1 },
  }
}
