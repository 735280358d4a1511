export { openStorage } from './openStorage.js'
export { batchWriterAllocatorConf } from './embedded.js'
export type { StorageConfig, HttpStorageConfig, EmbeddedStorageConfig } from './storageConfig.js'
export type { Storage, StorageDescription } from './storage.js'
export { StorageError, storageErrorCodes, type StorageErrorCode } from './storageError.js'
export { toDateTime64Text, fromDateTime64Text } from './dateTime64.js'
// Errors from ClickHouse are this class on both transports; re-exported so callers can classify
// them without depending on the client package themselves.
export { ClickHouseError } from '@clickhouse/client'
export { sessionSettings } from './sessionSettings.js'
// Least privilege on a ClickHouse server: the statements and the names they create (access/).
export {
  accessNames,
  readerRoles,
  readableAuditTables,
  sinkWrittenTables,
  analystFieldColumns,
  analystHiddenByDefault,
  eventRowTables,
  type AccessNames,
  type AnalystField,
} from './access/accessNames.js'
export {
  accessStatements,
  accessTeardownStatements,
  type AccessOptions,
  type AccessStatement,
} from './access/accessStatements.js'
export { analystStatements, type AnalystOptions } from './access/analystStatements.js'
export { sha256PasswordHash, type PasswordHash, type PasswordInput } from './access/passwordHash.js'
export {
  defaultQuotaLimits,
  defaultReaderLimits,
  readerProfileSettings,
  readerProfileViolations,
  type ProfileSetting,
  type QuotaLimits,
  type ReaderLimits,
} from './access/readerProfile.js'
