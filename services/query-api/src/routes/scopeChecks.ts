import type { FastifyRequest } from 'fastify'
import { mayReadTenant, type AccessScope } from '../access/accessScope.js'
import {
  defaultAnalystVisibility,
  hiddenWhere,
  hideableFieldNames,
  type HideableField,
} from '../access/analystVisibility.js'
import type { Reader } from '../answers/redaction.js'
import { decodeCursor, type PageCursor } from '../query/cursor.js'
import type { EventFilters } from '../query/eventFilters.js'
import { RequestRefused } from '../requestRefused.js'

/** The request's scope; routes under /v1 always have one (the onRequest hook checked the key). */
export function scopeOfRequest(request: FastifyRequest): AccessScope {
  if (!request.scope) throw new RequestRefused(401, 'missing API key')
  return request.scope
}

/**
 * Refuses a tenant filter the key may not read, with a 403 that says so. Without a tenant filter
 * the SQL itself is restricted to the key's tenants, so nothing else can come back anyway.
 */
export function checkTenant(scope: AccessScope, tenant: string | undefined): void {
  if (tenant !== undefined && !mayReadTenant(scope, tenant)) {
    throw new RequestRefused(403, `key ${scope.keyId} may not read tenant '${tenant}'`)
  }
}

/** A filter of the request, by its query-string name, that searches by a field analysts may not see. */
export type FilterOnHideableField = { filter: string; field: HideableField }

/** The search filters (search, counts, export) that look at an actor detail analysts may not see. */
export function filtersOnHideableFields(filters: EventFilters): FilterOnHideableField[] {
  return [
    ...(filters.ip !== undefined ? [{ filter: 'ip', field: 'ip' } as const] : []),
    ...(filters.sessionId !== undefined ? [{ filter: 'session_id', field: 'session_id' } as const] : []),
  ]
}

/**
 * Refuses an analyst's filter on a field hidden from analysts in any tenant the request may cover
 * (access/analystVisibility.ts, hiddenWhere), with a 403 naming the filter and why: answering
 * would tell whether an event has that value, which is what hiding it keeps from them. Counts
 * cannot group by any such field, so filters are all there is to check. Auditors filter freely.
 */
export function checkHiddenFilters(
  scope: AccessScope,
  reader: Reader,
  tenant: string | undefined,
  filters: readonly FilterOnHideableField[],
): void {
  if (scope.role === 'auditor') return
  const visibility = reader.visibility ?? defaultAnalystVisibility
  for (const { filter, field } of filters) {
    const where = hiddenWhere(visibility, field, scope, tenant)
    if (where !== undefined) {
      throw new RequestRefused(
        403,
        `${filter}: an analyst may not filter by ${hideableFieldNames[field]}, which ${field === 'attributes' ? 'are' : 'is'} hidden from analysts in ${where}`,
      )
    }
  }
}

export function cursorOf(text: string | undefined): PageCursor | undefined {
  if (text === undefined) return undefined
  const cursor = decodeCursor(text)
  if (!cursor)
    throw new RequestRefused(
      400,
      "cursor: not a cursor this API gave out (use a page's next_cursor as it is)",
    )
  return cursor
}
