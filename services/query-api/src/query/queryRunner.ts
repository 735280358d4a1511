import type { ClickHouseClient, ClickHouseSettings, DataFormat, ResultSet } from '@clickhouse/client'
import pLimit from 'p-limit'
import { ClickHouseError, sessionSettings } from '@audit-pipeline/storage'
import type { AccessScope } from '../access/accessScope.js'
import { tenantTableFilters } from '../access/tenantTableFilters.js'
import type { ServerQueryIdentity } from '../access/serverAccess.js'
import { RequestRefused } from '../requestRefused.js'
import { queryCapSettings, type QueryCaps } from './queryCaps.js'

export type QueryRunnerOptions = {
  client: ClickHouseClient
  database: string
  caps: QueryCaps
  /** Queries running at once; with the memory cap, this bounds what the API can take. */
  maxConcurrentQueries: number
  /** Queries waiting for a slot; one more is answered 503 with Retry-After. */
  maxQueuedQueries: number
  /**
   * On a ClickHouse server: the roles and quota key a scope's queries run with (serverAccess.ts),
   * so that the server's row policies and quotas hold too. Undefined for embedded ClickHouse,
   * which has no users or roles.
   */
  serverIdentity?: ((scope: AccessScope) => ServerQueryIdentity) | undefined
}

export type ApiQuery<Format extends DataFormat> = {
  query: string
  query_params?: Record<string, unknown>
  format: Format
  /** Refuse an answer of more rows (the SQL endpoint); others bound rows with LIMIT. */
  maxResultRows?: number
  /** Settings of the API's own, before the caps (which come last and cannot be lifted). */
  settings?: ClickHouseSettings
}

export type QueryRunner = {
  /**
   * Runs one query for `scope` under the caps, with ClickHouse adding the scope's tenant filter
   * to every audit table, and reads its answer with `read` while it still holds its slot (an
   * embedded answer is in memory until read). A query over a cap is refused, naming the cap.
   */
  run<Format extends DataFormat, T>(
    scope: AccessScope,
    query: ApiQuery<Format>,
    read: (result: ResultSet<Format>) => Promise<T>,
  ): Promise<T>
}

/** ClickHouse's codes for a query stopped by a cap, and the cap each one means. */
const capErrors: Record<number, (caps: QueryCaps, maxResultRows?: number) => string> = {
  241: (caps) => `more than ${mebibytes(caps.maxMemoryBytes)} MiB of memory (QUERY_API_MAX_MEMORY_BYTES)`,
  158: (caps) => `more than ${caps.maxRowsToRead} rows read (QUERY_API_MAX_ROWS_TO_READ)`,
  159: (caps) => `more than ${caps.maxExecutionSeconds} s (QUERY_API_MAX_EXECUTION_SECONDS)`,
  160: (caps) => `more than ${caps.maxExecutionSeconds} s (QUERY_API_MAX_EXECUTION_SECONDS)`,
  307: (caps) => `an answer over ${mebibytes(caps.maxResultBytes)} MiB (QUERY_API_MAX_RESULT_BYTES)`,
  396: (caps, maxResultRows) =>
    `an answer of more than ${maxResultRows ?? 'the allowed'} rows (QUERY_API_SQL_MAX_RESULT_ROWS) or ${mebibytes(caps.maxResultBytes)} MiB (QUERY_API_MAX_RESULT_BYTES)`,
}

export function createQueryRunner(options: QueryRunnerOptions): QueryRunner {
  const slots = pLimit(options.maxConcurrentQueries)
  return {
    run(scope, query, read) {
      if (slots.pendingCount >= options.maxQueuedQueries) {
        throw new RequestRefused(
          503,
          `the API is running ${slots.activeCount} queries with ${slots.pendingCount} waiting: try again shortly`,
          1,
        )
      }
      return slots(async () => {
        const filters = tenantTableFilters(scope, options.database)
        const clickhouse_settings: ClickHouseSettings = {
          // Restated here: embedded ClickHouse can set nothing after the caps' readonly.
          ...sessionSettings,
          ...query.settings,
          // Our own text rather than the client's SettingsMap, which does not escape quotes.
          ...(filters !== undefined && { additional_table_filters: filters as never }),
          ...queryCapSettings(options.caps, query.maxResultRows),
        }
        const identity = options.serverIdentity?.(scope)
        try {
          const result = await options.client.query({
            query: query.query,
            ...(query.query_params && { query_params: query.query_params }),
            format: query.format,
            ...(identity && { role: identity.role }),
            clickhouse_settings: identity
              ? { ...clickhouse_settings, quota_key: identity.quota_key }
              : clickhouse_settings,
          })
          return await read(result)
        } catch (error) {
          throw capRefusal(error, options.caps, query.maxResultRows) ?? accessRefusal(error) ?? error
        }
      })
    },
  }
}

/** A 400 naming the cap, for a query ClickHouse stopped at one; undefined for any other error. */
export function capRefusal(
  error: unknown,
  caps: QueryCaps,
  maxResultRows?: number,
): RequestRefused | undefined {
  if (!(error instanceof ClickHouseError)) return undefined
  const cap = capErrors[Number(error.code)]
  if (cap === undefined) return undefined
  return new RequestRefused(
    400,
    `the query was stopped: it needed ${cap(caps, maxResultRows)}; narrow it (filters, time range, LIMIT)`,
  )
}

/**
 * The server's access control refusing the API itself (not the caller's SQL): a key's quota
 * spent, a tenant whose role was never created, or caps above the server's profile.
 */
function accessRefusal(error: unknown): RequestRefused | undefined {
  if (!(error instanceof ClickHouseError)) return undefined
  switch (error.type) {
    case 'QUOTA_EXCEEDED':
      return new RequestRefused(429, `the key's ClickHouse quota is spent: ${error.message.trim()}`, 60)
    case 'UNKNOWN_ROLE':
    case 'SET_NON_GRANTED_ROLE':
      return new RequestRefused(
        503,
        "ClickHouse has no access role for a tenant of this key yet: the operator runs 'audit-pipeline clickhouse access apply' after making keys",
      )
    case 'SETTING_CONSTRAINT_VIOLATION':
      return new RequestRefused(
        503,
        "the query API's QUERY_API_MAX_* caps are above the ClickHouse reader profile's: the operator lowers them or re-applies the access with higher limits",
      )
    default:
      return undefined
  }
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(0)
}
