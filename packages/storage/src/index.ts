export { openStorage } from './openStorage.js'
export { batchWriterAllocatorConf } from './embedded.js'
export type { StorageConfig, HttpStorageConfig, EmbeddedStorageConfig } from './storageConfig.js'
export type { Storage, StorageDescription } from './storage.js'
export { StorageError, storageErrorCodes, type StorageErrorCode } from './storageError.js'
export { toDateTime64Text, fromDateTime64Text } from './dateTime64.js'
// Errors from ClickHouse are this class on both transports; re-exported so callers can classify
// them without depending on the client package themselves.
export { ClickHouseError } from '@clickhouse/client'
