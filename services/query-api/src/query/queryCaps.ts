import type { ClickHouseSettings } from '@clickhouse/client'

/** What one query of the API may use in ClickHouse, whichever endpoint runs it. */
export type QueryCaps = {
  /** ClickHouse's max_memory_usage for one query, bytes. */
  maxMemoryBytes: number
  /** Rows one query may read from tables (max_rows_to_read), subqueries included. */
  maxRowsToRead: number
  /** Bytes an answer may hold (max_result_bytes). */
  maxResultBytes: number
  /** How long one query may run, seconds (max_execution_time). */
  maxExecutionSeconds: number
}

export const defaultQueryCaps: QueryCaps = {
  maxMemoryBytes: 256 * 1024 ** 2,
  maxRowsToRead: 100_000_000,
  maxResultBytes: 64 * 1024 ** 2,
  maxExecutionSeconds: 10,
}

/**
 * The settings every query of the API runs with: a query over a cap fails with ClickHouse's
 * own error (memory, rows read, time, answer size) instead of growing the process, which in
 * embedded mode is the sink's too. Group-by and sort spill to disk at half the memory cap, so
 * a large honest aggregation slows down rather than fails.
 *
 * `readonly = 1` comes last: it refuses writes, and a SETTINGS clause or SET in the statement,
 * so nothing the query says can lift a cap; embedded ClickHouse applies settings in order and
 * nothing can be set after it. `maxResultRows` (the SQL endpoint) refuses a bigger answer; the
 * other endpoints bound rows with LIMIT.
 */
export function queryCapSettings(caps: QueryCaps, maxResultRows?: number): ClickHouseSettings {
  const spillBytes = String(Math.floor(caps.maxMemoryBytes / 2))
  return {
    max_memory_usage: String(caps.maxMemoryBytes),
    max_rows_to_read: String(caps.maxRowsToRead),
    read_overflow_mode: 'throw',
    max_result_bytes: String(caps.maxResultBytes),
    ...(maxResultRows !== undefined && { max_result_rows: String(maxResultRows) }),
    result_overflow_mode: 'throw',
    max_execution_time: caps.maxExecutionSeconds,
    timeout_overflow_mode: 'throw',
    max_bytes_before_external_group_by: spillBytes,
    max_bytes_before_external_sort: spillBytes,
    // The parser's own bounds, below ClickHouse's defaults: a statement is read before it runs.
    max_query_size: String(256 * 1024),
    max_parser_depth: String(256),
    max_ast_depth: String(256),
    max_ast_elements: String(20_000),
    readonly: '1',
  }
}
