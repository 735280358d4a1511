import { describe, expect, it } from 'vitest'
import { eventColumns, retentionStatements } from './auditTables.js'
import { migrations, type MigrationOptions } from './migrations.js'
import { defaultRetentionPolicy, parseRetentionPolicy } from './retention.js'
import { retentionTtl } from './retentionTtl.js'
import { migrationChecksum } from './runMigrations.js'

const single: MigrationOptions = { database: 'audit', retention: defaultRetentionPolicy }
const clustered: MigrationOptions = { ...single, cluster: 'prod' }
const migration1 = migrations[0]!

/** The statement that creates `name` (table or view), for one set of options. */
function statementFor(options: MigrationOptions, name: string): string {
  const statement = migration1
    .statements(options)
    .find((s) =>
      new RegExp(`^CREATE (TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS \`audit\`\\.\`${name}\`[ \\n]`).test(
        s,
      ),
    )
  if (statement === undefined) throw new Error(`no statement creates ${name}`)
  return statement
}

describe('migrations', () => {
  it('are numbered 1, 2, 3, … in order, each with a name', () => {
    migrations.forEach((migration, index) => {
      expect(migration.version).toBe(index + 1)
      expect(migration.name).not.toBe('')
    })
  })

  it('only create what does not exist yet, so running a migration again changes nothing', () => {
    for (const options of [single, clustered]) {
      for (const statement of migrations.flatMap((migration) => migration.statements(options))) {
        expect(statement).toMatch(/^CREATE (TABLE|VIEW|MATERIALIZED VIEW) IF NOT EXISTS /)
      }
    }
  })
})

describe('migration 1 on one server', () => {
  it('creates the tables and views in dependency order', () => {
    const created = migration1.statements(single).map((s) => /IF NOT EXISTS (\S+)/.exec(s)?.[1])
    expect(created).toEqual([
      '`audit`.`audit_events`',
      '`audit`.`audit_changes`',
      '`audit`.`audit_changes_mv`',
      '`audit`.`audit_actions_hourly`',
      '`audit`.`audit_actions_hourly_mv`',
      '`audit`.`audit_events_deduplicated`',
    ])
  })

  it('makes audit_events a ReplacingMergeTree ordered for entity timelines', () => {
    const ddl = statementFor(single, 'audit_events')
    expect(ddl).toContain('\nENGINE = ReplacingMergeTree\n')
    expect(ddl).toContain('\nPARTITION BY toYYYYMM(occurred_at)\n')
    expect(ddl).toContain('\nPRIMARY KEY (tenant, object_type, object_id, occurred_at)\n')
    expect(ddl).toContain('\nORDER BY (tenant, object_type, object_id, occurred_at, event_id)\n')
    expect(ddl).toMatch(
      /\nSETTINGS non_replicated_deduplication_window = 1000, deduplicate_merge_projection_mode = 'rebuild'$/,
    )
    expect(ddl).toContain(`
    PROJECTION by_actor (
        SELECT tenant, actor_id, occurred_at, event_id, action_kind, action_name, category, object_type, object_id, outcome_status
        ORDER BY (tenant, actor_id, occurred_at)
    )
)`)
    expect(ddl).toContain('INDEX actor_session_id_bloom actor_session_id TYPE bloom_filter GRANULARITY 1')
    expect(ddl).not.toContain('ON CLUSTER')
  })

  it('types audit_events columns as documented', () => {
    const ddl = statementFor(single, 'audit_events')
    for (const [name, type] of eventColumns) expect(ddl).toContain(`\n    ${name} ${type},\n`)
    const types = Object.fromEntries(eventColumns)
    expect(types).toMatchObject({
      event_id: 'UUID',
      occurred_at: "DateTime64(3, 'UTC')",
      recorded_at: "DateTime64(3, 'UTC')",
      actor_id: 'String',
      actor_roles: 'Array(LowCardinality(String))',
      object_id: 'String',
      changes:
        'Array(Tuple(path String, old_value Nullable(String), new_value Nullable(String), value_type LowCardinality(String)))',
      attributes: 'Map(LowCardinality(String), String)',
      sensitive_fields: 'Array(String)',
      kafka_partition: 'UInt32',
      kafka_offset: 'UInt64',
    })
    for (const name of [
      'tenant',
      'category',
      'action_kind',
      'action_name',
      'object_type',
      'actor_type',
      'source_service',
      'severity',
      'outcome_status',
      'kafka_topic',
    ]) {
      expect(types[name], name).toBe('LowCardinality(String)')
    }
  })

  it('deletes rows once their category has been kept long enough', () => {
    expect(statementFor(single, 'audit_events')).toContain(`
TTL multiIf(
    category = 'business', toDateTime(occurred_at) + toIntervalYear(7),
    category = 'debug', toDateTime(occurred_at) + toIntervalDay(7),
    category = 'platform', toDateTime(occurred_at) + toIntervalYear(1),
    category = 'security', toDateTime(occurred_at) + toIntervalYear(7),
    toDateTime(occurred_at) + toIntervalYear(2)
)
SETTINGS`)
    // Copies of changes live as long as their events; hourly counts as long as the events counted.
    expect(statementFor(single, 'audit_changes')).toContain(
      "category = 'debug', toDateTime(occurred_at) + toIntervalDay(7)",
    )
    expect(statementFor(single, 'audit_actions_hourly')).toContain(
      "category = 'debug', hour + toIntervalDay(7)",
    )
  })

  it('fills audit_changes with one row per change, keyed for "every change of this field"', () => {
    const table = statementFor(single, 'audit_changes')
    expect(table).toContain('\nENGINE = ReplacingMergeTree\n')
    expect(table).toContain('\nORDER BY (tenant, object_type, path, occurred_at, event_id)\n')
    expect(table).toMatch(/\nSETTINGS non_replicated_deduplication_window = 1000$/)
    const view = statementFor(single, 'audit_changes_mv')
    expect(view).toContain(' TO `audit`.`audit_changes` AS\n')
    expect(view).toContain('\nFROM `audit`.`audit_events`\nARRAY JOIN changes AS change')
  })

  it('counts events per hour and action, summed by merges', () => {
    expect(statementFor(single, 'audit_actions_hourly')).toContain('\nENGINE = SummingMergeTree\n')
    expect(statementFor(single, 'audit_actions_hourly')).toContain('events UInt64')
    expect(statementFor(single, 'audit_actions_hourly_mv')).toContain('count() AS events')
  })

  it('shows each event once through a FINAL view', () => {
    expect(statementFor(single, 'audit_events_deduplicated')).toBe(
      'CREATE VIEW IF NOT EXISTS `audit`.`audit_events_deduplicated` AS\n' +
        'SELECT * FROM `audit`.`audit_events` FINAL\n' +
        'SETTINGS optimize_move_to_prewhere_if_final = 1',
    )
  })

  it('refuses a database name that is not plain', () => {
    expect(() => migration1.statements({ ...single, database: 'audit`; DROP' })).toThrow(
      /invalid database name "audit`; DROP": expected letters, digits and _/,
    )
  })
})

describe('migration 1 on a cluster', () => {
  const statements = migration1.statements(clustered)

  it('runs every statement on the whole cluster', () => {
    for (const statement of statements) expect(statement.split('\n')[0]).toContain(" ON CLUSTER 'prod'")
  })

  it('keeps rows in Replicated *_local tables, one replica set per shard', () => {
    const created = statements.map((s) => /IF NOT EXISTS (\S+)/.exec(s)?.[1])
    expect(created).toEqual([
      '`audit`.`audit_events_local`',
      '`audit`.`audit_events`',
      '`audit`.`audit_changes_local`',
      '`audit`.`audit_changes`',
      '`audit`.`audit_changes_mv`',
      '`audit`.`audit_actions_hourly_local`',
      '`audit`.`audit_actions_hourly`',
      '`audit`.`audit_actions_hourly_mv`',
      '`audit`.`audit_events_deduplicated`',
    ])
    expect(statementFor(clustered, 'audit_events_local')).toContain(
      "\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/audit_events_local', '{replica}')\n",
    )
    expect(statementFor(clustered, 'audit_changes_local')).toContain(
      "\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/audit_changes_local', '{replica}')\n",
    )
    expect(statementFor(clustered, 'audit_actions_hourly_local')).toContain(
      "\nENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/audit/audit_actions_hourly_local', '{replica}')\n",
    )
    // Replicated tables deduplicate inserts by themselves.
    expect(statementFor(clustered, 'audit_events_local')).toMatch(
      /\nSETTINGS deduplicate_merge_projection_mode = 'rebuild'$/,
    )
    expect(statements.join('\n')).not.toContain('non_replicated_deduplication_window')
  })

  it('shards by record, so every copy and every change of one record is on one shard', () => {
    const distributed = statementFor(clustered, 'audit_events')
    expect(distributed).toMatch(
      /\nENGINE = Distributed\('prod', 'audit', 'audit_events_local', cityHash64\(tenant, object_type, object_id\)\)$/,
    )
    for (const [name, type] of eventColumns) expect(distributed).toContain(`    ${name} ${type}`)
    expect(statementFor(clustered, 'audit_changes')).toMatch(
      /ENGINE = Distributed\('prod', 'audit', 'audit_changes_local', cityHash64\(tenant, object_type, object_id\)\)$/,
    )
    expect(statementFor(clustered, 'audit_actions_hourly')).toMatch(
      /ENGINE = Distributed\('prod', 'audit', 'audit_actions_hourly_local'\)$/,
    )
  })

  it('fills the local tables from the local events, and reads the deduplicated view through Distributed', () => {
    const changesView = statementFor(clustered, 'audit_changes_mv')
    expect(changesView).toContain(" ON CLUSTER 'prod' TO `audit`.`audit_changes_local` AS\n")
    expect(changesView).toContain('\nFROM `audit`.`audit_events_local`\n')
    expect(statementFor(clustered, 'audit_actions_hourly_mv')).toContain(
      '\nFROM `audit`.`audit_events_local`\n',
    )
    expect(statementFor(clustered, 'audit_events_deduplicated')).toContain(
      "ON CLUSTER 'prod' AS\nSELECT * FROM `audit`.`audit_events` FINAL",
    )
  })

  it('quotes the cluster name', () => {
    const statement = migration1.statements({ ...single, cluster: "it's" })[0] ?? ''
    expect(statement).toContain(" ON CLUSTER 'it\\'s'")
  })
})

describe('migration 3: audit_record_latest', () => {
  const migration3 = migrations[2]!
  const [table, distributed, ...rest] = migration3.statements(clustered)
  const [singleTable, ...singleRest] = migration3.statements(single)

  it('keeps one row per record, the newest change winning, then the highest event id', () => {
    expect(migration3).toMatchObject({ version: 3 })
    expect(singleRest).toEqual([])
    expect(singleTable).toMatch(/^CREATE TABLE IF NOT EXISTS `audit`\.`audit_record_latest`\n/)
    expect(singleTable).toContain('\nENGINE = ReplacingMergeTree(record_version)\n')
    expect(singleTable).toContain('\nORDER BY (tenant, object_type, object_id, object_id2, object_id3)\n')
    expect(singleTable).toContain(
      '\n    record_version UInt256 MATERIALIZED ' +
        'bitShiftLeft(toUInt256(toUnixTimestamp64Milli(occurred_at) + 2208988800000), 128) + toUInt256(toUInt128(event_id))\n)',
    )
    // Merges never cross partitions: a record changed in two months would keep two rows.
    expect(singleTable).not.toContain('PARTITION BY')
    expect(singleTable).toMatch(
      /\nSETTINGS non_replicated_deduplication_window = 1000, allow_nullable_key = 1$/,
    )
  })

  it("has audit_events' columns, from the same definitions, and its retention", () => {
    for (const [name, type] of eventColumns) expect(singleTable).toContain(`\n    ${name} ${type},\n`)
    expect(singleTable).toContain(
      `\nTTL ${retentionTtl(defaultRetentionPolicy, 'toDateTime(occurred_at)')}\nSETTINGS`,
    )
  })

  it('on a cluster: a Replicated local table behind a Distributed one, sharded by record', () => {
    expect(rest).toEqual([])
    expect(table).toMatch(
      /^CREATE TABLE IF NOT EXISTS `audit`\.`audit_record_latest_local` ON CLUSTER 'prod'\n/,
    )
    expect(table).toContain(
      "\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/audit/audit_record_latest_local', '{replica}', record_version)\n",
    )
    expect(table).toMatch(/\nSETTINGS allow_nullable_key = 1$/)
    expect(distributed).toMatch(
      /^CREATE TABLE IF NOT EXISTS `audit`\.`audit_record_latest` ON CLUSTER 'prod'\n/,
    )
    expect(distributed).toMatch(
      /\nENGINE = Distributed\('prod', 'audit', 'audit_record_latest_local', cityHash64\(tenant, object_type, object_id\)\)$/,
    )
    // The version is the local table's to compute: the Distributed table forwards the event's columns.
    expect(distributed).not.toContain('record_version')
  })

  it('leaves the released migrations as they were: databases that applied them accept the list', () => {
    // Recorded by databases in use; runMigrations refuses a list whose released steps changed.
    const released = migrations
      .slice(0, 2)
      .map((migration) => [migrationChecksum(migration, single), migrationChecksum(migration, clustered)])
    expect(released).toEqual([
      [
        'c92bae6ab24ad421785dee7530770fe2e9143ca065435a6b6daba22cd4ab7ece',
        'a980b9847d3159cba8b12529adc0d76d469e4194636b0ac16eb5aace1d6ce61e',
      ],
      [
        '2450285ed9513ab2678abe24083ca3d084fb5c710a776ebb96050b569abd2d22',
        '7a4d5c2161f854fe54324414f617a9aa3109429d3533d15498c5616eccdb2ade',
      ],
    ])
  })
})

describe('retentionTtl', () => {
  it('puts tenant entries first, then categories, then the default', () => {
    const policy = parseRetentionPolicy({
      SINK_RETENTION: 'debug=7d,default=2y',
      SINK_RETENTION_TENANTS: "acme:business=10y,acme:default=3y,o'brien:debug=2w",
    })
    expect(retentionTtl({ ...policy, byCategory: { debug: { amount: 7, unit: 'day' } } }, 'd')).toBe(`multiIf(
    tenant = 'acme' AND category = 'business', d + toIntervalYear(10),
    tenant = 'acme', d + toIntervalYear(3),
    tenant = 'o\\'brien' AND category = 'debug', d + toIntervalWeek(2),
    category = 'debug', d + toIntervalDay(7),
    d + toIntervalYear(2)
)`)
  })

  it('is the default alone when nothing else is given', () => {
    expect(retentionTtl({ byCategory: {}, default: { amount: 18, unit: 'month' }, byTenant: {} }, 'd')).toBe(
      'd + toIntervalMonth(18)',
    )
  })
})

describe('migrationChecksum', () => {
  it('ignores the retention, which is configuration rather than schema', () => {
    const longer = parseRetentionPolicy({ SINK_RETENTION: 'debug=30d' })
    expect(migrationChecksum(migration1, { ...single, retention: longer })).toBe(
      migrationChecksum(migration1, single),
    )
    expect(migrationChecksum(migration1, single)).toMatch(/^[0-9a-f]{64}$/)
  })

  it('changes with the statements', () => {
    expect(migrationChecksum(migration1, clustered)).not.toBe(migrationChecksum(migration1, single))
    const edited = {
      ...migration1,
      statements: () => ['CREATE TABLE IF NOT EXISTS x (a UInt8) ENGINE = Memory'],
    }
    expect(migrationChecksum(edited, single)).not.toBe(migrationChecksum(migration1, single))
  })
})

describe('retentionStatements', () => {
  it('set the TTL of every table holding events, on one server or on a cluster', () => {
    const retention = parseRetentionPolicy({ SINK_RETENTION: 'debug=30d' })
    const statements = retentionStatements({ ...single, retention })
    expect(statements.map((s) => s.split('\n')[0])).toEqual([
      'ALTER TABLE `audit`.`audit_events`',
      'ALTER TABLE `audit`.`audit_changes`',
      'ALTER TABLE `audit`.`audit_actions_hourly`',
      'ALTER TABLE `audit`.`audit_record_latest`',
      'ALTER TABLE `audit`.`audit_chain`',
      'ALTER TABLE `audit`.`audit_checkpoints`',
    ])
    // Integrity records outlive every event: the policy's longest period (7 years by default).
    expect(statements[3]).toContain(`\nMODIFY TTL ${retentionTtl(retention, 'toDateTime(occurred_at)')}`)
    expect(statements[4]).toContain('\nMODIFY TTL toDateTime(stored_at) + toIntervalYear(7)')
    expect(statements[0]).toContain(`\nMODIFY TTL ${retentionTtl(retention, 'toDateTime(occurred_at)')}`)
    expect(statements[0]).toContain("category = 'debug', toDateTime(occurred_at) + toIntervalDay(30)")
    expect(statements[2]).toContain(`\nMODIFY TTL ${retentionTtl(retention, 'hour')}`)
    expect(retentionStatements({ ...clustered, retention }).map((s) => s.split('\n')[0])).toEqual([
      "ALTER TABLE `audit`.`audit_events_local` ON CLUSTER 'prod'",
      "ALTER TABLE `audit`.`audit_changes_local` ON CLUSTER 'prod'",
      "ALTER TABLE `audit`.`audit_actions_hourly_local` ON CLUSTER 'prod'",
      "ALTER TABLE `audit`.`audit_record_latest_local` ON CLUSTER 'prod'",
      "ALTER TABLE `audit`.`audit_chain_local` ON CLUSTER 'prod'",
      "ALTER TABLE `audit`.`audit_checkpoints_local` ON CLUSTER 'prod'",
    ])
  })
})
