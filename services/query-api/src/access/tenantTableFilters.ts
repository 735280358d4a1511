import type { AccessScope } from './accessScope.js'

/** The tables an analyst's SQL may read: the audit tables, each filtered by tenant when restricted. */
export const readableTables = [
  'audit_events',
  'audit_events_deduplicated',
  'audit_changes',
  'audit_actions_hourly',
] as const

/** A ClickHouse string literal: backslashes and quotes escaped. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

/**
 * ClickHouse's `additional_table_filters` for a tenant-restricted scope: `tenant IN (…)` on each
 * readable table, under its plain and its database-qualified name (a filter applies to the name
 * the query uses). Undefined for a scope that reads every tenant. Tenant names are already
 * restricted to `tenantNamePattern`; they are quoted all the same.
 */
export function tenantTableFilters(scope: AccessScope, database: string): string | undefined {
  if (scope.tenants === 'all') return undefined
  const filter = `tenant IN (${scope.tenants.map(stringLiteral).join(', ')})`
  const entries = readableTables.flatMap((table) => [table, `${database}.${table}`])
  return `{${entries.map((name) => `${stringLiteral(name)}: ${stringLiteral(filter)}`).join(', ')}}`
}
