import { quoteDatabaseName } from '../databaseName.js'

/**
 * The tables a reader may query (the query API's SQL endpoint and analysts alike): the
 * ClickHouse sink creates them (packages/clickhouse-schema/src/auditTables.ts). Each gets
 * SELECT for readers and a tenant row policy; nothing else in the database does.
 * `audit_record_latest` holds the records kept at temporal level 1 (their latest change only).
 */
export const readableAuditTables = [
  'audit_events',
  'audit_events_deduplicated',
  'audit_changes',
  'audit_actions_hourly',
  'audit_record_latest',
] as const

/**
 * What of an event the query API can hide from analysts (QUERY_API_ANALYST_VISIBILITY_FILE), by
 * the columns that hold it in the tables with one row per event (`eventRowTables`). Analysts who
 * query ClickHouse directly are refused the columns of the fields hidden by default
 * (`analystHiddenByDefault`) by their role, and may be granted some back one by one
 * (analystStatements' `see`).
 */
export const analystFieldColumns = {
  ip: ['actor_ip', 'on_behalf_of_ip'],
  session_id: ['actor_session_id', 'on_behalf_of_session_id'],
  user_agent: ['actor_user_agent', 'on_behalf_of_user_agent'],
  attributes: ['attributes'],
} as const

export type AnalystField = keyof typeof analystFieldColumns

/** Hidden from analysts unless a tenant shows them: they identify a person and a device. */
export const analystHiddenByDefault: readonly AnalystField[] = ['ip', 'session_id']

/**
 * The readable tables with the event's columns (`eventColumns` of packages/clickhouse-schema;
 * `audit_events_deduplicated` is a view of `audit_events`). `audit_changes` and
 * `audit_actions_hourly` hold none of the hideable columns.
 */
export const eventRowTables = ['audit_events', 'audit_events_deduplicated', 'audit_record_latest'] as const

/**
 * The tables the sink writes. It inserts into `audit_events`; its materialized views insert into
 * `audit_changes` and `audit_actions_hourly` with the rights of their definer, the sink user that
 * created them (`default_materialized_view_sql_security` is DEFINER and `default_view_definer`
 * CURRENT_USER: docs/en/operations/settings/settings.md; docs/en/sql-reference/statements/create/
 * view.md, "SQL security"). `schema_migrations` records its migrations.
 */
export const sinkWrittenTables = [
  'audit_events',
  'audit_changes',
  'audit_actions_hourly',
  'audit_record_latest',
  // The integrity records (packages/clickhouse-schema/src/integrityTables.ts): the sink appends
  // each stored event to its chain and signs checkpoints, reading the newest of each back.
  'audit_chain',
  'audit_checkpoints',
  'schema_migrations',
] as const

/** The table engines the sink's migrations create tables with (for `table_engines_require_grant`). */
export const sinkTableEngines = ['ReplacingMergeTree', 'SummingMergeTree', 'MergeTree'] as const

/**
 * The names of everything the access statements create for one database. Roles, users, profiles
 * and quotas are server-wide in ClickHouse, so every name starts with the database's name: two
 * deployments on one server (`audit`, `audit_staging`) never share a role, and granting one
 * role's privileges `WITH REPLACE OPTION` cannot take another database's away.
 */
export type AccessNames = {
  /** The database the names belong to; also their prefix. */
  readonly database: string
  /** Role of the sink: INSERT, and the reads and DDL its migrations and offset lookups need. */
  readonly sinkWriterRole: string
  /** Role with SELECT on the readable tables; sees no row without a tenant role too. */
  readonly readerRole: string
  /** Role whose row policy lets a reader see every tenant's rows. */
  readonly allTenantsRole: string
  /** Role for people querying ClickHouse directly: the reader's privileges plus their quota. */
  readonly analystRole: string
  /** Settings profile of every reader: read-only, with caps that no query can raise. */
  readonly readerProfile: string
  /** Quota of the query API user, one budget per API key (`KEYED BY client_key`). */
  readonly queryApiQuota: string
  /** Quota of the analyst role, one budget per ClickHouse user (`KEYED BY user_name`). */
  readonly analystQuota: string
  /** The user the ClickHouse sink logs in as. */
  readonly sinkUser: string
  /** The user the query API logs in as. */
  readonly queryApiUser: string
  /** Row policy `USING 1` for everyone but readers: the sink, its views' definer, administrators. */
  readonly unrestrictedPolicy: string
  /** Row policy `USING 0` for readers: a reader without a tenant role sees nothing. */
  readonly readerDenyPolicy: string
  /** Row policy `USING 1` for the all-tenants role. */
  readonly allTenantsPolicy: string
  /** The role (and row policy) of one tenant. */
  tenantRole(tenant: string): string
}

/**
 * The names for `database`. A tenant's role is `<database>_tenant_<hex of its UTF-8 name>`:
 * tenant names may hold `.`, `:`, `@` and `-`, which a role name would need quoted everywhere,
 * while hex is a plain identifier and still reads back (`unhex('61636d65')` is `acme`).
 */
export function accessNames(database: string): AccessNames {
  quoteDatabaseName(database)
  const name = (suffix: string) => `${database}_${suffix}`
  return {
    database,
    sinkWriterRole: name('sink_writer'),
    readerRole: name('reader'),
    allTenantsRole: name('all_tenants'),
    analystRole: name('analyst'),
    readerProfile: name('reader_profile'),
    queryApiQuota: name('query_api_quota'),
    analystQuota: name('analyst_quota'),
    sinkUser: name('sink'),
    queryApiUser: name('query_api'),
    unrestrictedPolicy: name('unrestricted'),
    readerDenyPolicy: name('reader_default_deny'),
    allTenantsPolicy: name('all_tenants'),
    tenantRole: (tenant) => name(`tenant_${tenantHex(tenant)}`),
  }
}

/**
 * The roles a reader enables to read `tenants`' rows: the reader role (SELECT) and the tenants'
 * roles (their rows), or the all-tenants role. What the query API names in each query's HTTP
 * `role` parameter. No tenant at all leaves the reader role alone, whose rows are none.
 */
export function readerRoles(names: AccessNames, tenants: readonly string[] | 'all'): string[] {
  if (tenants === 'all') return [names.readerRole, names.allTenantsRole]
  return [names.readerRole, ...[...new Set(tenants)].sort().map((tenant) => names.tenantRole(tenant))]
}

function tenantHex(tenant: string): string {
  if (tenant === '') throw new RangeError('invalid tenant name: empty')
  return Buffer.from(tenant, 'utf8').toString('hex')
}
