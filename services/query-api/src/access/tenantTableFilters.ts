import { readableAuditTables } from '@audit-pipeline/storage'
import type { AccessScope } from './accessScope.js'

/**
 * The tables SQL may read, each filtered by tenant when the key is restricted: the audit tables
 * (the trail, its changes and hourly counts, and `audit_record_latest`, where records kept at
 * temporal logging level 1 are). The list the server's access control grants readers SELECT and
 * a tenant row policy on, so that the API's check and the server's cannot disagree.
 */
export const readableTables = readableAuditTables

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
