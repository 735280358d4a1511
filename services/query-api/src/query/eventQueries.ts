import type { AccessScope } from '../access/accessScope.js'
import type { PageCursor } from './cursor.js'
import { answerColumns, eventsView, recordLatestTable } from './eventColumns.js'
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
  const where = pageConditions(request, scope)
  return {
    query: `SELECT ${answerColumns.join(', ')}
FROM ${eventsView}
${whereClause(where)}
${pageOrder(request.order)}`,
    params: { ...where.params, page_rows: request.limit + 1 },
  }
}

/**
 * One page of a record's events (timeline and state): those of the trail, and the latest change
 * `audit_record_latest` keeps of it when it is kept at temporal logging level 1, in one keyset
 * over both, (occurred_at, event_id) order, so the cursor is the same as the trail's. The sink
 * writes each event to one table or the other, so nothing is shown twice; a record whose level
 * changed has events in both, and shows them all.
 *
 * FINAL: until a merge the table may hold several versions of a record, and FINAL keeps the newest
 * before WHERE applies (conditions on columns outside the sorting key, such as `occurred_at`,
 * are not moved before it), so a time bound never brings back a version a newer one replaced.
 * Each branch is ordered and limited too, so a long trail is not read past the page.
 */
export function recordPageQuery(request: EventPageRequest, scope: AccessScope): ParameterizedQuery {
  const where = pageConditions(request, scope)
  const columns = answerColumns.join(', ')
  const branch = (table: string) => `SELECT ${columns}
FROM ${table}
${whereClause(where)}
${pageOrder(request.order)}`
  return {
    query: `SELECT ${columns}
FROM (
${branch(eventsView)}
UNION ALL
${branch(`${recordLatestTable} FINAL`)}
)
${pageOrder(request.order)}`,
    params: { ...where.params, page_rows: request.limit + 1 },
  }
}

/**
 * Whether `audit_record_latest` holds a row of the record `filters` name (its type and id, and the
 * tenant and further ids when given), among the key's tenants: then it is kept at temporal
 * logging level 1, and the changes its latest one replaced were not kept. Any row will do, merged
 * or not, so no FINAL; time bounds do not matter either.
 */
export function recordKeptLatestQuery(filters: EventFilters, scope: AccessScope): ParameterizedQuery {
  const { tenant, objectType, objectId, objectId2, objectId3 } = filters
  // A filter left undefined adds no condition.
  const where = eventConditions({ tenant, objectType, objectId, objectId2, objectId3 }, scope)
  return {
    query: `SELECT 1 AS kept
FROM ${recordLatestTable}
${whereClause(where)}
LIMIT 1`,
    params: where.params,
  }
}

function pageConditions(request: EventPageRequest, scope: AccessScope): Conditions {
  return combine(
    eventConditions(request.filters, scope),
    request.extra ?? { conditions: [], params: {} },
    request.cursor ? afterCursor(request.cursor, request.order) : { conditions: [], params: {} },
  )
}

function pageOrder(order: SortOrder): string {
  const direction = order === 'asc' ? 'ASC' : 'DESC'
  return `ORDER BY occurred_at ${direction}, event_id ${direction}
LIMIT {page_rows:UInt32}`
}
