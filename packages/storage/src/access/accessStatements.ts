import { quoteDatabaseName } from '../databaseName.js'
import {
  accessNames,
  analystFieldColumns,
  analystHiddenByDefault,
  eventRowTables,
  readableAuditTables,
  sinkTableEngines,
  sinkWrittenTables,
} from './accessNames.js'
import { sha256PasswordHash, type PasswordInput } from './passwordHash.js'
import {
  checkPositive,
  defaultQuotaLimits,
  defaultReaderLimits,
  profileSettingSql,
  readerProfileSettings,
  type QuotaLimits,
  type ReaderLimits,
} from './readerProfile.js'
import { quoteIdentifier, quoteString } from './sqlText.js'

/** One statement of the plan. */
export type AccessStatement = {
  /** What the statement is for, one line (`--dry-run` prints it above each group). */
  about: string
  /** What runs. */
  sql: string
  /** What may be printed or logged: `sql` with password hashes and salts hidden. */
  shown: string
}

export type AccessOptions = {
  /** The audit database; every name the statements create starts with it (accessNames). */
  database: string
  /** Tenants that get a role and row policies: every tenant an API key or analyst may be restricted to. */
  tenants: readonly string[]
  /** Default: defaultReaderLimits. */
  limits?: ReaderLimits
  /** Default: defaultQuotaLimits, for each API key and each analyst. */
  quota?: QuotaLimits
  /** Set: the sink user is created if missing and given this password. Unset: it must exist. */
  sinkPassword?: PasswordInput
  /** Set: the query API user is created if missing and given this password. Unset: it must exist. */
  queryApiPassword?: PasswordInput
}

/**
 * The statements that set up least privilege for `options.database` on a ClickHouse server, in
 * the order they must run. Every one is idempotent (`IF NOT EXISTS` followed by an `ALTER` that
 * restates the whole definition, or a `GRANT`), so the list can run again after each new tenant,
 * and a run interrupted halfway is finished by running it again.
 *
 * `IF NOT EXISTS` + `ALTER` rather than `CREATE OR REPLACE`: replacing drops the entity and makes
 * a new one, so a user would lose its grants, a profile its users, and a row policy would be
 * missing for a moment, during which readers of its table would see what the others allow.
 *
 * Who sees which rows (docs/en/sql-reference/statements/create/row-policy.md): once a table has
 * any row policy, a user sees the rows that one of their matching permissive policies allows,
 * the policies' conditions ORed together. Roles match by being enabled (current roles and the
 * roles granted to them). On each readable table:
 * - `<db>_unrestricted`, `USING 1 TO ALL EXCEPT <db>_reader, <db>_analyst`: everyone who is not
 *   reading as a reader or an analyst sees every row: the sink (its offset lookups), the definer
 *   its materialized views run as, administrators. Without it they would depend on the server's
 *   `users_without_row_policies_can_read_rows` (true by default, false on older configurations,
 *   and then the sink's views would see none of the rows inserted).
 * - `<db>_reader_default_deny`, `USING 0 TO <db>_reader, <db>_analyst`: a reader or analyst
 *   without a tenant role sees nothing, rather than everything as that server default would give.
 * - `<db>_all_tenants`, `USING 1`, and `<db>_tenant_<hex>`, `USING tenant = '<tenant>'`, each to
 *   its role: the rows a reader may see, ORed over the roles it has enabled.
 * Analysts get a reader's SELECT less the columns of what analysts do not see by default (the
 * actor's IP address and session id, and those of whom it acted for): ClickHouse refuses those
 * columns, and `SELECT *`, to them; the query API hides them per tenant (its visibility file).
 * The query API's user has every tenant role but none by default: each of its queries names the
 * roles of its API key (HTTP `role` parameter, docs/en/interfaces/http.md "Setting a role with
 * query parameters"), and a query naming none has no privilege at all.
 */
export function accessStatements(options: AccessOptions): AccessStatement[] {
  const names = accessNames(options.database)
  const limits = options.limits ?? defaultReaderLimits
  const quota = options.quota ?? defaultQuotaLimits
  checkQuota(quota)
  const tenants = [...new Set(options.tenants)].sort()
  const tenantRoles = tenants.map((tenant) => names.tenantRole(tenant))
  const db = quoteDatabaseName(options.database)
  const table = (name: string) => `${db}.${quoteIdentifier(name)}`
  const roleList = (roles: readonly string[]) => roles.map(quoteIdentifier).join(', ')
  // Whose rows come only from tenant roles: the query API's reader and analysts.
  const readers = roleList([names.readerRole, names.analystRole])
  const plain = (about: string, sql: string): AccessStatement => ({ about, sql, shown: sql })

  const roles = [
    names.sinkWriterRole,
    names.readerRole,
    names.allTenantsRole,
    names.analystRole,
    ...tenantRoles,
  ]
  const profileSettings = readerProfileSettings(limits).map(profileSettingSql).join(',\n    ')
  const profile = quoteIdentifier(names.readerProfile)

  return [
    ...roles.map((role) =>
      plain(
        'roles: the sink, readers, every tenant, each tenant, analysts',
        `CREATE ROLE IF NOT EXISTS ${quoteIdentifier(role)}`,
      ),
    ),

    plain(
      "the sink: its migrations' CREATE DATABASE/TABLE/VIEW in the database, INSERT into the tables it and its views write, SELECT for offset lookups and its views; nothing more (WITH REPLACE OPTION drops anything else)",
      `GRANT CREATE DATABASE, CREATE TABLE, CREATE VIEW ON ${db}.*, ` +
        sinkWrittenTables.map((name) => `SELECT, INSERT ON ${table(name)}`).join(', ') +
        ', ' +
        // Needed only where `table_engines_require_grant` is on (docs/en/sql-reference/statements/grant.md, "TABLE ENGINE").
        sinkTableEngines.map((engine) => `TABLE ENGINE ON ${engine}`).join(', ') +
        ` TO ${quoteIdentifier(names.sinkWriterRole)} WITH REPLACE OPTION`,
    ),
    plain(
      'readers: SELECT on the readable audit tables, nothing else',
      `GRANT ${readableAuditTables.map((name) => `SELECT ON ${table(name)}`).join(', ')} ` +
        `TO ${quoteIdentifier(names.readerRole)} WITH REPLACE OPTION`,
    ),
    // Not by the reader role, whose SELECT takes every column: a partial revoke takes back only
    // what the role itself was granted (docs/en/sql-reference/statements/revoke.md).
    plain(
      "analysts: a reader's SELECT on the readable audit tables (their rows come from the tenant roles granted beside it)",
      `GRANT ${readableAuditTables.map((name) => `SELECT ON ${table(name)}`).join(', ')} ` +
        `TO ${quoteIdentifier(names.analystRole)} WITH REPLACE OPTION`,
    ),
    ...eventRowTables.map((name) =>
      plain(
        `analysts: not the columns of what is hidden from analysts by default (${analystHiddenByDefault.join(', ')}); analystStatements' see grants them back to one analyst`,
        `REVOKE SELECT(${analystHiddenByDefault.flatMap((field) => analystFieldColumns[field]).join(', ')}) ` +
          `ON ${table(name)} FROM ${quoteIdentifier(names.analystRole)}`,
      ),
    ),
    // Until this version the analyst role had the reader role; taking it away is a no-op after.
    plain(
      'analysts: no longer by the reader role (which sees every column)',
      `REVOKE ${quoteIdentifier(names.readerRole)} FROM ${quoteIdentifier(names.analystRole)}`,
    ),

    ...[
      `CREATE SETTINGS PROFILE IF NOT EXISTS ${profile} SETTINGS\n    ${profileSettings}`,
      // A bare SETTINGS clause replaces the whole list (docs/en/sql-reference/statements/alter/settings-profile.md).
      `ALTER SETTINGS PROFILE ${profile} SETTINGS\n    ${profileSettings}`,
    ].map((sql) =>
      plain('every reader: read-only, capped, and no way to raise a cap (readerProfile.ts)', sql),
    ),

    ...readableAuditTables.flatMap((name) => {
      const policy = (policyName: string, condition: string, to: string) =>
        [`CREATE ROW POLICY IF NOT EXISTS`, `ALTER ROW POLICY`].map((verb) =>
          plain(
            `rows of ${name}: everyone but readers sees all; a reader sees its tenant roles' rows, or none`,
            `${verb} ${quoteIdentifier(policyName)} ON ${table(name)} AS PERMISSIVE FOR SELECT USING ${condition} TO ${to}`,
          ),
        )
      return [
        ...policy(names.unrestrictedPolicy, '1', `ALL EXCEPT ${readers}`),
        ...policy(names.readerDenyPolicy, '0', readers),
        ...policy(names.allTenantsPolicy, '1', quoteIdentifier(names.allTenantsRole)),
        ...tenants.flatMap((tenant) =>
          policy(
            names.tenantRole(tenant),
            `tenant = ${quoteString(tenant)}`,
            quoteIdentifier(names.tenantRole(tenant)),
          ),
        ),
      ]
    }),

    ...userStatements(
      'the sink user: the sink writer role, nothing else',
      names.sinkUser,
      options.sinkPassword,
      {
        create: 'DEFAULT ROLE NONE',
        alter: '',
      },
    ),
    plain(
      'the sink user: the sink writer role, nothing else',
      `GRANT ${quoteIdentifier(names.sinkWriterRole)} TO ${quoteIdentifier(names.sinkUser)} WITH REPLACE OPTION`,
    ),
    // Also what its views run as (definer = the user that created them), so it must be default.
    plain(
      'the sink user: the sink writer role, nothing else',
      `ALTER USER ${quoteIdentifier(names.sinkUser)} DEFAULT ROLE ${quoteIdentifier(names.sinkWriterRole)}`,
    ),

    ...userStatements(
      "the query API user: the reader profile, no role by default; each query names its key's roles",
      names.queryApiUser,
      options.queryApiPassword,
      {
        create: `DEFAULT ROLE NONE SETTINGS PROFILE ${quoteString(names.readerProfile)}`,
        alter: `DEFAULT ROLE NONE SETTINGS PROFILE ${quoteString(names.readerProfile)}`,
      },
    ),
    // Added to, never replaced: a tenant dropped from the keys file keeps its role here, unused,
    // rather than a run with a partial tenant list breaking the other keys' queries.
    plain(
      'the query API user: the roles its queries may name (granted, not default)',
      `GRANT ${roleList([names.readerRole, names.allTenantsRole, ...tenantRoles])} TO ${quoteIdentifier(names.queryApiUser)}`,
    ),

    ...quotaStatements(
      'one quota per API key: the query API sends the key id as quota_key; a query without one is refused',
      names.queryApiQuota,
      'client_key',
      quota,
      quoteIdentifier(names.queryApiUser),
    ),
    ...quotaStatements(
      'one quota per analyst (ClickHouse user)',
      names.analystQuota,
      'user_name',
      quota,
      quoteIdentifier(names.analystRole),
    ),
  ]
}

/**
 * DROP … IF EXISTS for everything `accessStatements` creates for `database` and `tenants`,
 * dependents first. The database and its tables stay. Dropping the sink user breaks the sink's
 * materialized views, which run as it: drop the database too, or recreate the user first.
 */
export function accessTeardownStatements(database: string, tenants: readonly string[]): AccessStatement[] {
  const names = accessNames(database)
  const db = quoteDatabaseName(database)
  const tenantRoles = [...new Set(tenants)].sort().map((tenant) => names.tenantRole(tenant))
  const policies = [names.unrestrictedPolicy, names.readerDenyPolicy, names.allTenantsPolicy, ...tenantRoles]
  const list = (items: readonly string[]) => items.map(quoteIdentifier).join(', ')
  const plain = (sql: string): AccessStatement => ({
    about: `remove access control of ${database}`,
    sql,
    shown: sql,
  })
  return [
    plain(`DROP QUOTA IF EXISTS ${list([names.queryApiQuota, names.analystQuota])}`),
    plain(`DROP USER IF EXISTS ${list([names.sinkUser, names.queryApiUser])}`),
    ...readableAuditTables.flatMap((table) =>
      policies.map((policy) =>
        plain(`DROP ROW POLICY IF EXISTS ${quoteIdentifier(policy)} ON ${db}.${quoteIdentifier(table)}`),
      ),
    ),
    plain(`DROP SETTINGS PROFILE IF EXISTS ${quoteIdentifier(names.readerProfile)}`),
    plain(
      `DROP ROLE IF EXISTS ${list([names.sinkWriterRole, names.readerRole, names.allTenantsRole, names.analystRole, ...tenantRoles])}`,
    ),
  ]
}

/**
 * `CREATE USER IF NOT EXISTS` (only with a password: a user created without one could log in
 * without one) and an `ALTER USER` restating the password and `clauses`. A bare IDENTIFIED in
 * ALTER USER replaces every authentication method the user had (docs/en/sql-reference/
 * statements/alter/user.md), which is how a password is rotated.
 */
export function userStatements(
  about: string,
  user: string,
  password: PasswordInput | undefined,
  clauses: { create: string; alter: string },
): AccessStatement[] {
  const name = quoteIdentifier(user)
  const join = (...parts: string[]) => parts.filter((part) => part !== '').join(' ')
  if (password === undefined) {
    if (clauses.alter === '') return []
    const sql = join(`ALTER USER ${name}`, clauses.alter)
    return [{ about, sql, shown: sql }]
  }
  const { sha256Hex, salt } = sha256PasswordHash(password)
  const identified = (hash: string, saltText: string) =>
    `IDENTIFIED WITH sha256_hash BY ${quoteString(hash)} SALT ${quoteString(saltText)}`
  const both = (verb: string, rest: string): AccessStatement => ({
    about,
    sql: join(verb, identified(sha256Hex, salt), rest),
    shown: join(verb, identified('[hidden]', '[hidden]'), rest),
  })
  return [
    both(`CREATE USER IF NOT EXISTS ${name}`, clauses.create),
    both(`ALTER USER ${name}`, clauses.alter),
  ]
}

function quotaStatements(
  about: string,
  quotaName: string,
  keyedBy: 'client_key' | 'user_name',
  quota: QuotaLimits,
  to: string,
): AccessStatement[] {
  const definition =
    `KEYED BY ${keyedBy} FOR INTERVAL 1 hour MAX queries = ${quota.queriesPerHour}, ` +
    `read_rows = ${quota.readRowsPerHour}, execution_time = ${quota.executionSecondsPerHour} TO ${to}`
  return [`CREATE QUOTA IF NOT EXISTS`, `ALTER QUOTA`].map((verb) => {
    const sql = `${verb} ${quoteIdentifier(quotaName)} ${definition}`
    return { about, sql, shown: sql }
  })
}

function checkQuota(quota: QuotaLimits): void {
  checkPositive('quota.queriesPerHour', quota.queriesPerHour)
  checkPositive('quota.readRowsPerHour', quota.readRowsPerHour)
  checkPositive('quota.executionSecondsPerHour', quota.executionSecondsPerHour)
}
