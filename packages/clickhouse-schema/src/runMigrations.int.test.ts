import { describe, expect, it, onTestFinished } from 'vitest'
import type { Storage } from '@audit-pipeline/storage'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { migrations, type Migration, type MigrationOptions } from './migrations.js'
import { defaultRetentionPolicy, parseRetentionPolicy } from './retention.js'
import { runMigrations } from './runMigrations.js'
import { SchemaMigrationError } from './schemaMigrationError.js'

async function freshDatabase(): Promise<{ storage: Storage; options: MigrationOptions }> {
  const opened = await openTestStorage()
  onTestFinished(() => opened.close())
  const { storage, database } = opened
  return { storage, options: { database, retention: defaultRetentionPolicy } }
}

async function rows<Row>(storage: Storage, query: string): Promise<Row[]> {
  const result = await storage.client.query({ query, format: 'JSONEachRow' })
  return result.json<Row>()
}

async function tableNames(storage: Storage, database: string): Promise<string[]> {
  const tables = await rows<{ name: string }>(
    storage,
    `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`,
  )
  return tables.map((table) => table.name)
}

async function recordedMigrations(storage: Storage, database: string) {
  return rows<{ version: number; name: string; checksum: string; applied_at: string }>(
    storage,
    `SELECT version, name, checksum, applied_at FROM ${database}.schema_migrations ORDER BY version`,
  )
}

const probe = (version: number, table: string): Migration => ({
  version,
  name: `probe ${table}`,
  statements: ({ database }) => [
    `CREATE TABLE IF NOT EXISTS ${database}.${table} (a UInt8) ENGINE = MergeTree ORDER BY a`,
  ],
})

describe('runMigrations', () => {
  it('applies every migration once and records each version; a second run applies nothing', async () => {
    const { storage, options } = await freshDatabase()

    expect(await runMigrations(storage, options)).toEqual(migrations.map((m) => m.version))
    expect(await runMigrations(storage, options)).toEqual([])

    expect(await tableNames(storage, options.database)).toEqual([
      'audit_actions_hourly',
      'audit_actions_hourly_mv',
      'audit_chain',
      'audit_changes',
      'audit_changes_mv',
      'audit_checkpoints',
      'audit_events',
      'audit_events_deduplicated',
      'audit_record_latest',
      'schema_migrations',
    ])
    const recorded = await recordedMigrations(storage, options.database)
    expect(recorded).toHaveLength(migrations.length)
    expect(recorded[0]).toMatchObject({ version: 1, name: migrations[0]?.name })
    expect(recorded[0]?.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(recorded[0]?.applied_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/)
  })

  it('applies only the migrations added since the last run, in order', async () => {
    const { storage, options } = await freshDatabase()
    expect(await runMigrations(storage, options, [probe(1, 'first')])).toEqual([1])
    expect(
      await runMigrations(storage, options, [probe(1, 'first'), probe(2, 'second'), probe(3, 'third')]),
    ).toEqual([2, 3])
    expect((await recordedMigrations(storage, options.database)).map((m) => m.name)).toEqual([
      'probe first',
      'probe second',
      'probe third',
    ])
  })

  it('refuses an applied migration whose statements changed, naming it, before running anything', async () => {
    const { storage, options } = await freshDatabase()
    await runMigrations(storage, options, [probe(1, 'first')])
    const edited: Migration = {
      ...probe(1, 'first'),
      statements: (options) => probe(1, 'renamed').statements(options),
    }

    const failure = await runMigrations(storage, options, [edited, probe(2, 'second')]).catch(
      (e: unknown) => e,
    )
    expect(failure).toBeInstanceOf(SchemaMigrationError)
    expect(failure).toMatchObject({ code: 'MIGRATION_CHANGED', retriable: false })
    expect((failure as Error).message).toMatch(
      /^migration 1 \(probe first\) was applied to \S+ with checksum [0-9a-f]{64}, but its statements now have checksum [0-9a-f]{64}: a released migration must not change/,
    )
    expect(await tableNames(storage, options.database)).toEqual(['first', 'schema_migrations'])
  })

  it('does not count a change of retention as a changed migration', async () => {
    const { storage, options } = await freshDatabase()
    await runMigrations(storage, options)
    const longer = parseRetentionPolicy({
      SINK_RETENTION: 'debug=30d',
      SINK_RETENTION_TENANTS: 'acme:business=10y',
    })
    expect(await runMigrations(storage, { ...options, retention: longer })).toEqual([])
  })

  it('leaves a failed migration unrecorded, so the next run finishes it', async () => {
    const { storage, options } = await freshDatabase()
    const broken: Migration = {
      version: 1,
      name: 'broken',
      statements: ({ database }) => [
        `CREATE TABLE IF NOT EXISTS ${database}.done (a UInt8) ENGINE = MergeTree ORDER BY a`,
        `CREATE TABLE IF NOT EXISTS ${database}.bad (a UInt8) ENGINE = NoSuchEngine`,
      ],
    }
    const failure = await runMigrations(storage, options, [broken]).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(SchemaMigrationError)
    expect(failure).toMatchObject({ code: 'MIGRATION_FAILED', retriable: false })
    expect((failure as Error).message).toMatch(
      /^migration 1 \(broken\), statement 2 of 2, failed: .*NoSuchEngine/s,
    )
    expect(await recordedMigrations(storage, options.database)).toEqual([])

    const fixed: Migration = {
      ...broken,
      statements: ({ database }) => [
        `CREATE TABLE IF NOT EXISTS ${database}.done (a UInt8) ENGINE = MergeTree ORDER BY a`,
        `CREATE TABLE IF NOT EXISTS ${database}.bad (a UInt8) ENGINE = MergeTree ORDER BY a`,
      ],
    }
    expect(await runMigrations(storage, options, [fixed])).toEqual([1])
  })

  it('is harmless when two sinks run it at the same time', async () => {
    const { storage, options } = await freshDatabase()
    const runs = await Promise.all([runMigrations(storage, options), runMigrations(storage, options)])
    // Each run may or may not have applied a version itself; together they applied all of them.
    expect(new Set(runs.flat())).toEqual(new Set(migrations.map((m) => m.version)))
    const recorded = await rows<{ version: number }>(
      storage,
      `SELECT version FROM ${options.database}.schema_migrations FINAL ORDER BY version`,
    )
    expect(recorded.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
    expect(await runMigrations(storage, options)).toEqual([])
  })

  it('refuses a list whose versions are not 1, 2, 3, …', async () => {
    const { storage, options } = await freshDatabase()
    await expect(runMigrations(storage, options, [probe(1, 'a'), probe(3, 'c')])).rejects.toMatchObject({
      code: 'MIGRATION_LIST_INVALID',
      message: 'migration 3 (probe c) is number 2 in the list: versions must be 1, 2, 3, … in order',
    })
  })
})
