import { ClickHouseError } from '@audit-pipeline/storage'

/**
 * ClickHouse error types that mean "these rows cannot be stored as they are": retrying the same
 * rows gives the same answer. Only these dead-letter rows; every other failure (network, a
 * timeout, an overloaded server, a missing table an operator must restore) is retried, because
 * dead-lettering a whole batch for an outage would be wrong.
 */
const rowRejections: ReadonlySet<string> = new Set([
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_BOOL',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_READ_ARRAY_FROM_TEXT',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'INCORRECT_DATA',
  'TYPE_MISMATCH',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'ARGUMENT_OUT_OF_BOUND',
  'TOO_LARGE_STRING_SIZE',
  'TOO_LARGE_ARRAY_SIZE',
  'DECIMAL_OVERFLOW',
])

export type InsertFailure = 'rows-rejected' | 'retry'

/** What to do about a failed insert: find and dead-letter the rows ClickHouse refuses, or retry. */
export function insertFailure(error: unknown): InsertFailure {
  return error instanceof ClickHouseError && error.type !== undefined && rowRejections.has(error.type)
    ? 'rows-rejected'
    : 'retry'
}
