// The sink as a library: configuration, the service, metrics and the storage schema, for tests,
// the bench and the local stack. The process is main.ts.
export { loadSinkConfig, sinkOpsPort, type SinkConfig } from './config.js'
export { createSink, type Sink, type SinkOptions } from './sink.js'
export { createSinkMetrics, type SinkMetrics } from './metrics.js'
export { openSinkStorage } from './openSinkStorage.js'
export { auditTables } from './schema/auditTables.js'
export { eventRow, type AuditEventRow } from './schema/eventRow.js'
export { runMigrations } from './schema/runMigrations.js'
export { migrations, type Migration, type MigrationOptions } from './schema/migrations.js'
export { analystQueries, type AnalystQuery } from './schema/analystQueries.js'
export { parseRetentionPolicy, defaultRetentionPolicy, type RetentionPolicy } from './schema/retention.js'
export { type KafkaSource, type ChangeRow } from './schema/eventRow.js'
export {
  formatRetentionPeriod,
  maxRetentionYears,
  retentionSettings,
  retentionUnits,
  type RetentionPeriod,
  type RetentionUnit,
} from './schema/retention.js'
export { migrationChecksum, schemaMigrationsTable } from './schema/runMigrations.js'
export {
  SchemaMigrationError,
  schemaMigrationErrorCodes,
  type SchemaMigrationErrorCode,
} from './schema/schemaMigrationError.js'
export { eventColumns, retentionStatements } from './schema/auditTables.js'
