import { parseJsonText, writeJsonText } from '@audit-pipeline/event-model'
import { blindIndex, type KeyStore } from '@audit-pipeline/field-encryption'
import type { AccessScope } from '../access/accessScope.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import { eventsView } from './eventColumns.js'
import { eventConditions, storedValueCandidates, whereClause, type EventFilters } from './eventFilters.js'
import type { ParameterizedQuery } from './eventQueries.js'

/**
 * An auditor's search by value (`changed` with `from` / `to`) finds sealed values by their blind
 * index (packages/field-encryption: the first 8 bytes of an HMAC of the value's canonical JSON
 * under the tenant's index key), which each sealed value carries in the clear. The index key never
 * reaches ClickHouse: the API computes the indexes of the searched value for each tenant the
 * search may match in, and the query compares them with the stored ones (eventFilters.ts).
 *
 * A blind index match is a candidate, not an answer: the rows found are confirmed on their opened
 * values (confirmsValueSearch), which drops 64-bit collisions and, above all, the values of
 * erased subjects, whose index outlives their key. Without that an auditor could confirm a guess
 * of an erased value by searching for it.
 */

/** Which of a search's values look into sealed values: only an auditor's, by value, with a key store. */
export function searchesSealedValues(filters: EventFilters, scope: AccessScope): boolean {
  return (
    scope.role === 'auditor' &&
    filters.changed !== undefined &&
    (filters.changedFrom !== undefined || filters.changedTo !== undefined)
  )
}

/**
 * The tenants whose blind indexes the search needs: the one it names, else the key's; undefined
 * for a key that reads every tenant and names none (sealedValueTenantsQuery finds them).
 */
export function sealedSearchTenants(
  filters: EventFilters,
  scope: AccessScope,
): readonly string[] | undefined {
  if (filters.tenant !== undefined) return [filters.tenant]
  return scope.tenants === 'all' ? undefined : scope.tenants
}

/**
 * The tenants having a sealed value at the searched path among the events the search's other
 * filters keep, `maxTenants + 1` at most (to tell when there are more).
 */
export function sealedValueTenantsQuery(
  filters: EventFilters,
  scope: AccessScope,
  maxTenants: number,
): ParameterizedQuery {
  const {
    changedFrom: _from,
    changedTo: _to,
    changedFromSealed: _fromSealed,
    changedToSealed: _toSealed,
    ...others
  } = filters
  const where = eventConditions(others, scope)
  where.conditions.push(
    `arrayExists(c -> c.path = {f_changed:String} AND (startsWith(ifNull(c.old_value, ''), '"enc:v1:') OR startsWith(ifNull(c.new_value, ''), '"enc:v1:')), changes)`,
  )
  return {
    query: `SELECT DISTINCT tenant FROM ${eventsView}
${whereClause(where)}
LIMIT {max_tenants:UInt32}`,
    params: { ...where.params, max_tenants: maxTenants + 1 },
  }
}

/**
 * The blind indexes of the search's `from` and `to` in each tenant, as eventConditions compares
 * them: `<tenant>:<index>`, one for each stored form a value given as text may have
 * (storedValueCandidates: `3` is the number or the string).
 */
export async function sealedValueIndexes(
  filters: Pick<EventFilters, 'changedFrom' | 'changedTo'>,
  tenants: readonly string[],
  keys: KeyStore,
): Promise<Pick<EventFilters, 'changedFromSealed' | 'changedToSealed'>> {
  const from = canonicalCandidates(filters.changedFrom)
  const to = canonicalCandidates(filters.changedTo)
  const fromIndexes = new Set<string>()
  const toIndexes = new Set<string>()
  for (const tenant of new Set(tenants)) {
    const indexKey = await keys.indexKeyFor(tenant)
    for (const text of from ?? [])
      fromIndexes.add(`${tenant}:${blindIndex(parseJsonText(text, 'value'), indexKey)}`)
    for (const text of to ?? [])
      toIndexes.add(`${tenant}:${blindIndex(parseJsonText(text, 'value'), indexKey)}`)
  }
  return {
    ...(from !== undefined && { changedFromSealed: [...fromIndexes] }),
    ...(to !== undefined && { changedToSealed: [...toIndexes] }),
  }
}

/**
 * Whether `shown` (the row as the auditor reads it, sealed values opened) has a change at the
 * searched path from and to the searched values, in the clear or once opened; `stored` is the same
 * row as stored. True for every row of a search that did not look into sealed values.
 */
export function confirmsValueSearch(
  stored: StoredEventRow,
  shown: StoredEventRow,
  filters: EventFilters,
): boolean {
  if (filters.changedFromSealed === undefined && filters.changedToSealed === undefined) return true
  const from = valueMatcher(filters.changedFrom)
  const to = valueMatcher(filters.changedTo)
  return stored.changes.some((change, index) => {
    const opened = shown.changes[index]
    return (
      change.path === filters.changed &&
      opened !== undefined &&
      from(change.old_value, opened.old_value) &&
      to(change.new_value, opened.new_value)
    )
  })
}

/** Matches a change value as stored (the query's plain comparison) or as opened (canonical JSON). */
function valueMatcher(text: string | undefined): (stored: string | null, opened: string | null) => boolean {
  if (text === undefined) return () => true
  const storedForms = storedValueCandidates(text)
  const canonicalForms = canonicalCandidates(text) ?? []
  return (stored, opened) =>
    (stored !== null && storedForms.includes(stored)) ||
    (opened !== null && canonicalForms.includes(canonicalText(opened) ?? ''))
}

/**
 * The canonical JSON (keys sorted) of each form a searched value may have been sealed in, which is
 * what a blind index covers: storedValueCandidates' forms, and the value as JSON with its numbers
 * as written (`2.50` stays `2.50`, as the event model keeps it when sealing).
 */
function canonicalCandidates(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined
  const forms = [...storedValueCandidates(text), text].flatMap((candidate) => canonicalText(candidate) ?? [])
  return [...new Set(forms)]
}

/** Undefined for text that is not JSON the event model reads (too deep, say): nothing sealed has it. */
function canonicalText(text: string): string | undefined {
  try {
    return writeJsonText(parseJsonText(text, 'value'), { sortKeys: true })
  } catch {
    return undefined
  }
}
