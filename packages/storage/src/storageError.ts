import { AuditError } from '@audit-pipeline/errors'

export const storageErrorCodes = [
  /** Another process has the embedded data directory open. */
  'EMBEDDED_DATA_DIR_IN_USE',
  /** This process already has a different embedded data directory open. */
  'EMBEDDED_DATA_DIR_CONFLICT',
  /** The embedded engine refused to open the data directory for another reason. */
  'EMBEDDED_OPEN_FAILED',
  /** ClickHouse did not answer a ping. */
  'STORAGE_UNAVAILABLE',
  /** A database name that is not letters, digits and `_`. */
  'INVALID_NAME',
  /** A query parameter value that would not bind the same on both transports. */
  'UNSUPPORTED_QUERY_PARAMETER',
] as const

export type StorageErrorCode = (typeof storageErrorCodes)[number]

/**
 * What this package itself throws. Errors from ClickHouse reach callers as `@clickhouse/client`'s
 * `ClickHouseError` on both transports, with the server's `code` and `type`.
 */
export class StorageError extends AuditError<StorageErrorCode> {}
