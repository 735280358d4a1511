import { auditTablesV1 } from './auditTables.js'
import { integrityTablesV2 } from './integrityTables.js'
import { recordLatestTableV3 } from './recordLatestTable.js'
import type { RetentionPolicy } from './retention.js'

export type MigrationOptions = {
  /** A plain name: letters, digits and `_`. */
  database: string
  /** Set: statements run `ON CLUSTER`, with Replicated tables sharded behind Distributed ones. */
  cluster?: string | undefined
  /** Rendered into the tables' TTL when they are created. */
  retention: RetentionPolicy
}

/**
 * One step of the schema. Statements are idempotent (`IF NOT EXISTS`, `ADD COLUMN IF NOT EXISTS`,
 * …): a step interrupted halfway, or run by two sinks at once, is finished by running it again.
 * A released migration is never edited (runMigrations refuses one whose statements changed);
 * add the next version instead.
 */
export type Migration = {
  readonly version: number
  readonly name: string
  statements(options: MigrationOptions): string[]
}

/** Every migration, oldest first; versions are 1, 2, 3, … */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'audit events, changes, hourly counts', statements: auditTablesV1 },
  { version: 2, name: 'hash chain and signed checkpoints', statements: integrityTablesV2 },
  { version: 3, name: 'latest change per record (temporal level 1)', statements: recordLatestTableV3 },
]
