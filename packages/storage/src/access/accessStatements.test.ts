import { describe, expect, it } from 'vitest'
import { accessStatements, accessTeardownStatements, type AccessOptions } from './accessStatements.js'
import { sha256PasswordHash } from './passwordHash.js'
import { defaultReaderLimits } from './readerProfile.js'

const sinkPassword = { password: 'sink-secret', salt: '00112233445566778899aabbccddeeff' }
const queryApiPassword = { password: 'api-secret', salt: 'ffeeddccbbaa99887766554433221100' }
const full: AccessOptions = { database: 'audit', tenants: ['globex', 'acme'], sinkPassword, queryApiPassword }
const sqlOf = (options: AccessOptions) => accessStatements(options).map((statement) => statement.sql)
const indexOf = (sql: readonly string[], start: string) => {
  const index = sql.findIndex((statement) => statement.startsWith(start))
  if (index === -1) throw new Error(`no statement starts with ${start}`)
  return index
}
const readable = [
  'audit_events',
  'audit_events_deduplicated',
  'audit_changes',
  'audit_actions_hourly',
  'audit_record_latest',
]

describe('accessStatements', () => {
  it('is the same plan for the same options, whatever the order and repeats of the tenants', () => {
    expect(sqlOf(full)).toEqual(sqlOf({ ...full, tenants: ['acme', 'globex', 'acme'] }))
  })

  it('creates only with IF NOT EXISTS, never replaces or drops, and restates each definition with ALTER', () => {
    const sql = sqlOf(full)
    for (const statement of sql.filter((s) => s.startsWith('CREATE')))
      expect(statement).toMatch(/^CREATE \w+( \w+)? IF NOT EXISTS /)
    expect(sql.join('\n')).not.toMatch(/OR REPLACE|\bDROP\b/)
    // The one thing taken away: from analysts, the columns they do not see by default, and the
    // reader role the analyst role had before.
    for (const statement of sql.filter((s) => s.startsWith('REVOKE')))
      expect(statement).toMatch(/^REVOKE .* FROM `audit_analyst`$/)
    for (const [create, alter] of [
      [
        'CREATE SETTINGS PROFILE IF NOT EXISTS `audit_reader_profile`',
        'ALTER SETTINGS PROFILE `audit_reader_profile`',
      ],
      ['CREATE QUOTA IF NOT EXISTS `audit_query_api_quota`', 'ALTER QUOTA `audit_query_api_quota`'],
      ['CREATE USER IF NOT EXISTS `audit_sink`', 'ALTER USER `audit_sink`'],
    ] as const) {
      expect(indexOf(sql, alter)).toBeGreaterThan(indexOf(sql, create))
    }
  })

  it('runs everything after what it names: roles, profile and users before the grants, policies and quotas that use them', () => {
    const sql = sqlOf(full)
    const lastRole = Math.max(...sql.map((s, i) => (s.startsWith('CREATE ROLE') ? i : -1)))
    expect(lastRole).toBeLessThan(indexOf(sql, 'GRANT'))
    expect(lastRole).toBeLessThan(indexOf(sql, 'CREATE ROW POLICY'))
    expect(indexOf(sql, 'CREATE SETTINGS PROFILE')).toBeLessThan(
      indexOf(sql, 'CREATE USER IF NOT EXISTS `audit_query_api`'),
    )
    expect(indexOf(sql, 'CREATE USER IF NOT EXISTS `audit_sink`')).toBeLessThan(
      indexOf(sql, 'GRANT `audit_sink_writer` TO `audit_sink`'),
    )
    // A default role must be granted already (docs: ALTER USER, "If roles aren't previously assigned…").
    expect(indexOf(sql, 'GRANT `audit_sink_writer` TO `audit_sink`')).toBeLessThan(
      indexOf(sql, 'ALTER USER `audit_sink` DEFAULT ROLE `audit_sink_writer`'),
    )
    expect(indexOf(sql, 'CREATE USER IF NOT EXISTS `audit_query_api`')).toBeLessThan(
      indexOf(sql, 'CREATE QUOTA IF NOT EXISTS `audit_query_api_quota`'),
    )
  })

  it('gives the sink its migrations, its inserts and its reads, and nothing else', () => {
    expect(sqlOf(full)).toContain(
      'GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW ON `audit`.*, ' +
        'SELECT, INSERT ON `audit`.`audit_events`, SELECT, INSERT ON `audit`.`audit_changes`, ' +
        'SELECT, INSERT ON `audit`.`audit_actions_hourly`, SELECT, INSERT ON `audit`.`audit_record_latest`, ' +
        'SELECT, INSERT ON `audit`.`audit_chain`, SELECT, INSERT ON `audit`.`audit_checkpoints`, ' +
        'SELECT, INSERT ON `audit`.`schema_migrations`, ' +
        'TABLE ENGINE ON ReplacingMergeTree, TABLE ENGINE ON SummingMergeTree, TABLE ENGINE ON MergeTree ' +
        'TO `audit_sink_writer` WITH REPLACE OPTION',
    )
  })

  it('gives readers SELECT on the readable audit tables only, and analysts that less the IP and session id columns', () => {
    const sql = sqlOf(full)
    const selectAll = readable.map((t) => `SELECT ON \`audit\`.\`${t}\``).join(', ')
    expect(sql).toContain(`GRANT ${selectAll} TO \`audit_reader\` WITH REPLACE OPTION`)
    const grantsToReader = sql.filter((s) => s.startsWith('GRANT') && s.includes('TO `audit_reader`'))
    expect(grantsToReader).toHaveLength(1)
    // The analyst role's own SELECT, not the reader role's: a partial revoke applies to what the
    // role itself was granted, never to what a granted role brings.
    expect(sql).toContain(`GRANT ${selectAll} TO \`audit_analyst\` WITH REPLACE OPTION`)
    expect(sql).not.toContain('GRANT `audit_reader` TO `audit_analyst` WITH REPLACE OPTION')
    const hidden = 'actor_ip, on_behalf_of_ip, actor_session_id, on_behalf_of_session_id'
    const revokes = sql.filter((s) => s.startsWith('REVOKE'))
    expect(revokes).toEqual([
      `REVOKE SELECT(${hidden}) ON \`audit\`.\`audit_events\` FROM \`audit_analyst\``,
      `REVOKE SELECT(${hidden}) ON \`audit\`.\`audit_events_deduplicated\` FROM \`audit_analyst\``,
      `REVOKE SELECT(${hidden}) ON \`audit\`.\`audit_record_latest\` FROM \`audit_analyst\``,
      'REVOKE `audit_reader` FROM `audit_analyst`',
    ])
    // Granted first, then taken back in part (a later GRANT … WITH REPLACE OPTION would undo it).
    expect(indexOf(sql, 'REVOKE SELECT(')).toBeGreaterThan(
      indexOf(sql, `GRANT ${selectAll} TO \`audit_analyst\``),
    )
  })

  it('puts the same row policies on each readable table: three fixed ones and one a tenant, matched by a quoted literal', () => {
    const sql = sqlOf({ ...full, tenants: ['acme', "o'brien\\co"] })
    const policies = sql.filter((s) => s.startsWith('CREATE ROW POLICY'))
    expect(policies).toHaveLength(readable.length * 5)
    for (const table of readable) {
      const on = `ON \`audit\`.\`${table}\` AS PERMISSIVE FOR SELECT USING`
      expect(policies).toEqual(
        expect.arrayContaining([
          `CREATE ROW POLICY IF NOT EXISTS \`audit_unrestricted\` ${on} 1 TO ALL EXCEPT \`audit_reader\`, \`audit_analyst\``,
          `CREATE ROW POLICY IF NOT EXISTS \`audit_reader_default_deny\` ${on} 0 TO \`audit_reader\`, \`audit_analyst\``,
          `CREATE ROW POLICY IF NOT EXISTS \`audit_all_tenants\` ${on} 1 TO \`audit_all_tenants\``,
          `CREATE ROW POLICY IF NOT EXISTS \`audit_tenant_61636d65\` ${on} tenant = 'acme' TO \`audit_tenant_61636d65\``,
          `CREATE ROW POLICY IF NOT EXISTS \`audit_tenant_${Buffer.from("o'brien\\co").toString('hex')}\` ${on} tenant = 'o\\'brien\\\\co' TO \`audit_tenant_${Buffer.from("o'brien\\co").toString('hex')}\``,
        ]),
      )
    }
  })

  it('gives the query API user the profile, no default role, and every role its queries may name', () => {
    const sql = sqlOf(full)
    expect(sql).toContain(
      "ALTER USER `audit_query_api` DEFAULT ROLE NONE SETTINGS PROFILE 'audit_reader_profile'".replace(
        'ALTER USER `audit_query_api`',
        `ALTER USER \`audit_query_api\` IDENTIFIED WITH sha256_hash BY '${sha256PasswordHash(queryApiPassword).sha256Hex}' SALT '${queryApiPassword.salt}'`,
      ),
    )
    expect(sql).toContain(
      'GRANT `audit_reader`, `audit_all_tenants`, `audit_tenant_61636d65`, `audit_tenant_676c6f626578` TO `audit_query_api`',
    )
  })

  it('keys the query API quota by client key and the analyst quota by user name', () => {
    const sql = sqlOf({
      ...full,
      quota: { queriesPerHour: 5, readRowsPerHour: 6, executionSecondsPerHour: 7 },
    })
    expect(sql).toContain(
      'ALTER QUOTA `audit_query_api_quota` KEYED BY client_key FOR INTERVAL 1 hour MAX queries = 5, read_rows = 6, execution_time = 7 TO `audit_query_api`',
    )
    expect(sql).toContain(
      'ALTER QUOTA `audit_analyst_quota` KEYED BY user_name FOR INTERVAL 1 hour MAX queries = 5, read_rows = 6, execution_time = 7 TO `audit_analyst`',
    )
  })

  it('sends only the salted hash of a password, and shows neither hash nor salt', () => {
    const statements = accessStatements(full)
    const { sha256Hex } = sha256PasswordHash(sinkPassword)
    const sql = statements.map((s) => s.sql).join('\n')
    const shown = statements.map((s) => s.shown).join('\n')
    expect(sql).not.toContain(sinkPassword.password)
    expect(sql).not.toContain(queryApiPassword.password)
    expect(sql).toContain(
      `CREATE USER IF NOT EXISTS \`audit_sink\` IDENTIFIED WITH sha256_hash BY '${sha256Hex}' SALT '${sinkPassword.salt}' DEFAULT ROLE NONE`,
    )
    for (const secret of [sinkPassword.password, sinkPassword.salt, sha256Hex, queryApiPassword.salt]) {
      expect(shown).not.toContain(secret)
    }
    expect(shown).toContain(
      "CREATE USER IF NOT EXISTS `audit_sink` IDENTIFIED WITH sha256_hash BY '[hidden]' SALT '[hidden]' DEFAULT ROLE NONE",
    )
    // Statements without a secret are shown as they run.
    for (const statement of statements.filter((s) => !s.sql.includes('IDENTIFIED')))
      expect(statement.shown).toBe(statement.sql)
  })

  it('without passwords creates no user (one without a password could log in without one) and leaves passwords alone', () => {
    const sql = sqlOf({ database: 'audit', tenants: [] })
    expect(sql.join('\n')).not.toMatch(/CREATE USER|IDENTIFIED/)
    expect(sql).toContain(
      "ALTER USER `audit_query_api` DEFAULT ROLE NONE SETTINGS PROFILE 'audit_reader_profile'",
    )
    expect(sql).toContain('GRANT `audit_sink_writer` TO `audit_sink` WITH REPLACE OPTION')
  })

  it('writes the limits into the profile', () => {
    const sql = sqlOf({ ...full, limits: { ...defaultReaderLimits, maxMemoryBytes: 2048 } })
    expect(sql.find((s) => s.startsWith('ALTER SETTINGS PROFILE'))).toContain(
      'max_memory_usage = 2048 MIN 1 MAX 2048 CHANGEABLE_IN_READONLY',
    )
  })

  it('refuses quota limits below 1, naming them', () => {
    expect(() =>
      accessStatements({
        ...full,
        quota: { queriesPerHour: 0, readRowsPerHour: 1, executionSecondsPerHour: 1 },
      }),
    ).toThrow('invalid quota.queriesPerHour 0')
  })
})

describe('accessTeardownStatements', () => {
  it('drops what accessStatements creates, users and quotas before the roles and profile they use', () => {
    const sql = accessTeardownStatements('audit', ['acme']).map((s) => s.sql)
    expect(sql[0]).toBe('DROP QUOTA IF EXISTS `audit_query_api_quota`, `audit_analyst_quota`')
    expect(sql[1]).toBe('DROP USER IF EXISTS `audit_sink`, `audit_query_api`')
    expect(sql).toContain('DROP ROW POLICY IF EXISTS `audit_tenant_61636d65` ON `audit`.`audit_changes`')
    expect(sql.filter((s) => s.startsWith('DROP ROW POLICY'))).toHaveLength(readable.length * 4)
    expect(sql.at(-1)).toBe(
      'DROP ROLE IF EXISTS `audit_sink_writer`, `audit_reader`, `audit_all_tenants`, `audit_analyst`, `audit_tenant_61636d65`',
    )
  })
})
