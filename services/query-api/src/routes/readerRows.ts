import type { AccessScope } from '../access/accessScope.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import { rowsForReader, type Reader } from '../answers/redaction.js'
import type { RouteContext } from '../app.js'
import type { EventFilters } from '../query/eventFilters.js'
import {
  confirmsValueSearch,
  sealedSearchTenants,
  sealedValueIndexes,
  sealedValueTenantsQuery,
  searchesSealedValues,
} from '../query/sealedValueSearch.js'
import { RequestRefused } from '../requestRefused.js'
import { select } from './selectRows.js'

/** Tenants a search by value of a key that reads them all may look into sealed values of. */
export const maxSealedSearchTenants = 10_000

/**
 * Who reads a request's answer. The analyst visibility is taken once here, so the filters it
 * allows and the answer it shapes follow the same version of the file.
 */
export function readerOf(context: RouteContext, scope: AccessScope): Reader {
  return { role: scope.role, fieldKeys: context.fieldKeys, visibility: context.analystVisibility.current() }
}

/**
 * The page of rows as the reader sees them (answers/redaction.ts), less the rows a search into
 * sealed values found by blind index but whose opened value is not the one searched for.
 */
export async function rowsShown(
  rows: readonly StoredEventRow[],
  reader: Reader,
  filters: EventFilters = {},
): Promise<StoredEventRow[]> {
  const shown = await rowsForReader(rows, reader)
  if (filters.changedFromSealed === undefined && filters.changedToSealed === undefined) return shown
  return shown.filter((row, index) => confirmsValueSearch(rows[index]!, row, filters))
}

/**
 * The filters with the blind indexes of an auditor's search by value (query/sealedValueSearch.ts),
 * when the API has a key store; as they are otherwise. For a key that reads every tenant and names
 * none, one query first finds the tenants having sealed values at the path.
 */
export async function withSealedValueSearch(
  context: RouteContext,
  scope: AccessScope,
  route: string,
  filters: EventFilters,
): Promise<EventFilters> {
  const keys = context.fieldKeys
  if (keys === undefined || !searchesSealedValues(filters, scope)) return filters
  let tenants = sealedSearchTenants(filters, scope)
  if (tenants === undefined) {
    const query = sealedValueTenantsQuery(filters, scope, maxSealedSearchTenants)
    const rows = await select<{ tenant: string }>(context, scope, route, query)
    if (rows.length > maxSealedSearchTenants) {
      throw new RequestRefused(
        400,
        `more than ${maxSealedSearchTenants} tenants have sealed values at ${filters.changed}: name one with tenant to search them by value`,
      )
    }
    tenants = rows.map((row) => row.tenant)
  }
  if (tenants.length === 0) return filters
  return { ...filters, ...(await sealedValueIndexes(filters, tenants, keys)) }
}
