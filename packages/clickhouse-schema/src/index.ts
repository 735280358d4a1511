// The ClickHouse table contract: what the sink writes and the query API, the CLI and analysts read.
// Table and column names, the row an event becomes, the migrations that make the tables and how
// they are applied, the retention they delete by, and the analysts' queries over them.
export { auditTables, eventColumns, retentionStatements } from './auditTables.js'
export { eventPartition, eventRow, type AuditEventRow, type ChangeRow, type KafkaSource } from './eventRow.js'
export { chainColumns, checkpointColumns, integrityTables, integrityTablesV2 } from './integrityTables.js'
export { migrations, type Migration, type MigrationOptions } from './migrations.js'
export { recordKeyColumns, recordVersionColumn } from './recordLatestTable.js'
export { migrationChecksum, runMigrations, schemaMigrationsTable } from './runMigrations.js'
export {
  SchemaMigrationError,
  schemaMigrationErrorCodes,
  type SchemaMigrationErrorCode,
} from './schemaMigrationError.js'
export {
  defaultRetentionPolicy,
  expiryOf,
  formatRetentionPeriod,
  longestRetention,
  retentionOf,
  maxRetentionYears,
  parseRetentionPolicy,
  retentionSettings,
  retentionUnits,
  type RetentionPeriod,
  type RetentionPolicy,
  type RetentionUnit,
} from './retention.js'
export { analystQueries, type AnalystQuery } from './analystQueries.js'
export {
  eventFieldsOfRow,
  eventOfStoredRow,
  storedEventSelect,
  type EventFieldColumns,
  type StoredEventRow,
} from './storedEvent.js'
export {
  chainEntryRow,
  checkpointOfStoredRow,
  checkpointRow,
  storedCheckpointSelect,
  type ChainEntryRow,
  type CheckpointRow,
  type StoredCheckpointRow,
} from './integrityRows.js'
