import { createHash } from 'node:crypto'
import { ClickHouseError, type Storage } from '@audit-pipeline/storage'
import { migrations as allMigrations, type Migration, type MigrationOptions } from './migrations.js'
import type { RetentionPolicy } from './retention.js'
import { SchemaMigrationError } from './schemaMigrationError.js'
import { tableLayout } from './tableLayout.js'

export const schemaMigrationsTable = 'schema_migrations'

/**
 * The retention the checksum is computed with. Retention is configuration rendered into the
 * tables' TTL, not schema: changing SINK_RETENTION must not make migration 1 look edited.
 */
const checksumRetention: RetentionPolicy = {
  byCategory: {},
  default: { amount: 1, unit: 'day' },
  byTenant: {},
}

/** sha256 of the migration's statements for `options`' database and cluster, whatever the retention. */
export function migrationChecksum(migration: Migration, options: MigrationOptions): string {
  const statements = migration.statements({ ...options, retention: checksumRetention })
  return createHash('sha256').update(statements.join('\n;\n')).digest('hex')
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, oldest first, and returns the
 * versions it applied. Each one's statements run in order and the version is recorded after the
 * last; a recorded version whose statements have changed since is refused before anything runs.
 * Versions recorded by a newer sink and unknown to this one are left alone (a rolling deploy).
 *
 * Two sinks starting at once may both apply a pending migration: every statement is idempotent
 * (`IF NOT EXISTS`), so the second run changes nothing, and both record the same version and
 * checksum in a ReplacingMergeTree keyed by version, read with FINAL. A run interrupted halfway
 * leaves its version unrecorded, and the next run finishes it.
 */
export async function runMigrations(
  storage: Storage,
  options: MigrationOptions,
  migrations: readonly Migration[] = allMigrations,
): Promise<number[]> {
  checkList(migrations)
  const layout = tableLayout(options)
  const table = layout.queried(schemaMigrationsTable)
  const command = (what: string, query: string, query_params?: Record<string, unknown>) =>
    attempt(what, () => storage.client.command({ query, query_params }))

  if (options.cluster === undefined) await storage.ensureDatabase(options.database)
  else
    await command(
      'creating the database',
      `CREATE DATABASE IF NOT EXISTS ${layout.database}${layout.onCluster}`,
    )
  await command(
    `creating ${schemaMigrationsTable}`,
    `CREATE TABLE IF NOT EXISTS ${table}${layout.onCluster}
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC')
)
ENGINE = ${layout.engine('ReplacingMergeTree', schemaMigrationsTable)}
ORDER BY version`,
  )
  const recorded = await attempt(`reading ${schemaMigrationsTable}`, async () => {
    const result = await storage.client.query({
      query: `SELECT version, checksum FROM ${table} FINAL`,
      format: 'JSONEachRow',
    })
    return result.json<{ version: number; checksum: string }>()
  })
  const recordedChecksums = new Map(recorded.map((row) => [Number(row.version), row.checksum]))

  const pending: { migration: Migration; checksum: string }[] = []
  for (const migration of migrations) {
    const checksum = migrationChecksum(migration, options)
    const recordedChecksum = recordedChecksums.get(migration.version)
    if (recordedChecksum === undefined) pending.push({ migration, checksum })
    else if (recordedChecksum !== checksum) {
      throw new SchemaMigrationError(
        'MIGRATION_CHANGED',
        `migration ${describe(migration)} was applied to ${options.database} with checksum ` +
          `${recordedChecksum}, but its statements now have checksum ${checksum}: a released migration ` +
          `must not change; put the change in a new migration`,
        false,
      )
    }
  }

  const applied: number[] = []
  for (const { migration, checksum } of pending) {
    const statements = migration.statements(options)
    for (const [index, statement] of statements.entries()) {
      await command(
        `migration ${describe(migration)}, statement ${index + 1} of ${statements.length},`,
        statement,
      )
    }
    await command(
      `recording migration ${describe(migration)}`,
      `INSERT INTO ${table} (version, name, checksum, applied_at)
       VALUES ({version:UInt32}, {name:String}, {checksum:String}, now64(3))`,
      { version: migration.version, name: migration.name, checksum },
    )
    applied.push(migration.version)
  }
  return applied
}

const describe = (migration: Migration) => `${migration.version} (${migration.name})`

/**
 * `action`, with a failure turned into MIGRATION_FAILED naming `what`. ClickHouse refusing a
 * statement is final; anything else (no answer, a dropped connection) may pass on a retry.
 */
async function attempt<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    throw new SchemaMigrationError(
      'MIGRATION_FAILED',
      `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      !(error instanceof ClickHouseError),
      { cause: error },
    )
  }
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new SchemaMigrationError(
        'MIGRATION_LIST_INVALID',
        `migration ${describe(migration)} is number ${index + 1} in the list: versions must be 1, 2, 3, … in order`,
        false,
      )
    }
  })
}
