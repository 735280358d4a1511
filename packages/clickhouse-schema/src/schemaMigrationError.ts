import { AuditError } from '@audit-pipeline/errors'

export const schemaMigrationErrorCodes = [
  /** A migration recorded as applied no longer has the statements it was applied with. */
  'MIGRATION_CHANGED',
  /** ClickHouse refused or did not answer a migration's statement. */
  'MIGRATION_FAILED',
  /** The list of migrations itself is wrong: versions not 1, 2, 3, … in order. */
  'MIGRATION_LIST_INVALID',
] as const

export type SchemaMigrationErrorCode = (typeof schemaMigrationErrorCodes)[number]

/** What runMigrations throws; the message names the migration by version and name. */
export class SchemaMigrationError extends AuditError<SchemaMigrationErrorCode> {}
