import type { ClickHouseSettings, SettingsMap } from '@clickhouse/client'
import type { AccessScope } from '../access/accessScope.js'
import { tenantTableFilters } from '../access/tenantTableFilters.js'

export type SqlLimits = {
  /** ClickHouse's max_execution_time, seconds. */
  maxExecutionSeconds: number
  /** Rows an answer may have; a bigger one is refused (result_overflow_mode = throw). */
  maxResultRows: number
}

/**
 * The settings an analyst's SQL runs under. `readonly = 1`: no writes, no DDL, no SET, and no
 * `SETTINGS` clause in the query, so none of the settings below can be changed by the SQL itself
 * (checked: "Cannot modify 'additional_table_filters' setting in readonly mode"). It comes last
 * because embedded ClickHouse applies settings one after another, and nothing can be set after
 * it; for the same reason the storage's pinned session settings are restated here, before it.
 */
export function sqlSettings(scope: AccessScope, database: string, limits: SqlLimits): ClickHouseSettings {
  const filters = tenantTableFilters(scope, database)
  return {
    output_format_json_quote_64bit_integers: 1,
    session_timezone: 'UTC',
    date_time_input_format: 'best_effort',
    // Our own text rather than the client's SettingsMap, which does not escape quotes in filters.
    ...(filters !== undefined && { additional_table_filters: filters as unknown as SettingsMap }),
    max_execution_time: limits.maxExecutionSeconds,
    max_result_rows: String(limits.maxResultRows),
    result_overflow_mode: 'throw',
    readonly: '1',
  }
}
