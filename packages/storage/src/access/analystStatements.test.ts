import { describe, expect, it } from 'vitest'
import { analystStatements } from './analystStatements.js'

describe('analystStatements', () => {
  it("puts the reader profile on the user and grants the analyst role beside the tenants' roles, all default", () => {
    const sql = analystStatements({ database: 'audit', user: 'analyst_x', tenants: ['globex', 'acme'] }).map(
      (s) => s.sql,
    )
    expect(sql).toEqual([
      "ALTER USER `analyst_x` SETTINGS PROFILE 'audit_reader_profile'",
      'GRANT `audit_analyst`, `audit_tenant_61636d65`, `audit_tenant_676c6f626578` TO `analyst_x`',
      'ALTER USER `analyst_x` DEFAULT ROLE ALL',
      // Nothing beyond what analysts see by default: any earlier `see` taken back.
      'REVOKE SELECT ON `audit`.* FROM `analyst_x`',
    ])
  })

  it('grants the user the columns of what it may see beyond the default, and nothing for a field already seen', () => {
    const sql = analystStatements({
      database: 'audit',
      user: 'analyst_z',
      tenants: ['acme'],
      see: ['session_id', 'user_agent', 'session_id'],
    }).map((s) => s.sql)
    const columns = 'SELECT(actor_session_id, on_behalf_of_session_id)'
    expect(sql.at(-1)).toBe(
      `GRANT ${columns} ON \`audit\`.\`audit_events\`, ${columns} ON \`audit\`.\`audit_events_deduplicated\`, ` +
        `${columns} ON \`audit\`.\`audit_record_latest\` TO \`analyst_z\` WITH REPLACE OPTION`,
    )
    expect(() =>
      analystStatements({ database: 'audit', user: 'a', tenants: 'all', see: ['email' as 'ip'] }),
    ).toThrow('cannot see email: the fields are ip, session_id, user_agent, attributes')
  })

  it('grants the all-tenants role for every tenant, and creates the user when given a password', () => {
    const statements = analystStatements({
      database: 'audit',
      user: 'analyst_y',
      tenants: 'all',
      password: { password: 'pw', salt: '00112233445566778899aabbccddeeff' },
    })
    expect(statements.map((s) => s.shown)).toEqual([
      "CREATE USER IF NOT EXISTS `analyst_y` IDENTIFIED WITH sha256_hash BY '[hidden]' SALT '[hidden]' SETTINGS PROFILE 'audit_reader_profile'",
      "ALTER USER `analyst_y` IDENTIFIED WITH sha256_hash BY '[hidden]' SALT '[hidden]' SETTINGS PROFILE 'audit_reader_profile'",
      'GRANT `audit_analyst`, `audit_all_tenants` TO `analyst_y`',
      'ALTER USER `analyst_y` DEFAULT ROLE ALL',
      'REVOKE SELECT ON `audit`.* FROM `analyst_y`',
    ])
  })

  it('refuses no tenants and a user name that is not plain', () => {
    expect(() => analystStatements({ database: 'audit', user: 'a', tenants: [] })).toThrow('no tenants')
    expect(() => analystStatements({ database: 'audit', user: "a'b", tenants: 'all' })).toThrow(
      'invalid name',
    )
  })
})
