/**
 * SQL an attacker holding a tenant-restricted auditor key would try on `POST /v1/sql`, by
 * category. `{canary}` is a file on the API's host holding a secret, `{outfile}` a path that
 * must never appear, `{other}` another database holding another tenant's rows.
 *
 * Each must be refused (4xx) or answer the key's own tenant's rows only; none may read the
 * canary, write a file, change a table or take the process past its memory cap.
 */
export type SqlAttack = { category: AttackCategory; sql: string; params?: Record<string, string> }

/** A statement, or one with query parameters (`{name:Type}`) the attacker fills too. */
type Template = string | { sql: string; params: Record<string, string> }

export const attackCategories = [
  'statement smuggling',
  'unicode and whitespace',
  'host and network functions',
  'system tables and other databases',
  'settings overrides',
  'outfile and format',
  'writes and DDL',
  'resource exhaustion',
] as const
export type AttackCategory = (typeof attackCategories)[number]

const nested = (depth: number) => `SELECT ${'('.repeat(depth)}1${')'.repeat(depth)}`

const corpus: Record<AttackCategory, Template[]> = {
  'statement smuggling': [
    'SELECT 1; DROP TABLE audit_events',
    'SELECT 1;; SELECT * FROM system.tables',
    "SELECT ';' AS a; DROP TABLE audit_events",
    'SELECT 1 /* outer /* nested */ ; DROP TABLE audit_events; */',
    "SELECT 1 // a comment hiding a quote '\n; SELECT * FROM merge(currentDatabase(), '^audit')",
    "SELECT 1 -- ' \n; SELECT * FROM merge(currentDatabase(), '^audit')",
    'SELECT 1 # comment\n; DROP TABLE audit_events',
    'SELECT 1 #! comment\n; DROP TABLE audit_events',
    'SELECT $$a;b$$; DROP TABLE audit_events',
    'SELECT $tag$ ; $tag$; DROP TABLE audit_events',
    "SELECT 'a\\'; DROP TABLE audit_events; --'",
    "SELECT 'a\\\\'; DROP TABLE audit_events; --'",
    'SELECT "col;"; DROP TABLE audit_events',
    'SELECT `a;b`; DROP TABLE audit_events',
    'SELECT 1 /* unterminated ; DROP TABLE audit_events',
    "SELECT 1; SELECT * FROM merge(currentDatabase(), '^audit_events$') INTO OUTFILE '{outfile}'",
  ],
  'unicode and whitespace': [
    'SELECT 1\u037e DROP TABLE audit_events',
    'SELECT 1\uff1b DROP TABLE audit_events',
    'SELECT\u00a0*\u00a0FROM\u00a0system.tables',
    'SELECT * FROM sys\u200btem.tables',
    'SELECT * FROM \u0455ystem.tables',
    'SELECT\t*\fFROM\vsystem.tables',
    'SELECT * FROM "system"."tables"',
    'SELECT * FROM `system`.`tables`',
    'SELECT * FROM `system.tables`',
    'SELECT `a\n  Function numbers` FROM audit_events',
    'SELECT 1 AS `x)\n ExpressionList (alias y`, tenant FROM audit_events',
    'SELECT * FROM `audit_events (alias x)\n  TableIdentifier audit_events`',
  ],
  'host and network functions': [
    "SELECT file('{canary}')",
    "SELECT FILE('{canary}')",
    "SELECT * FROM audit_events WHERE actor_id = file('{canary}')",
    "SELECT (SELECT file('{canary}'))",
    "WITH file('{canary}') AS f SELECT f",
    "SELECT arrayMap(x -> file(x), ['{canary}'])",
    "SELECT x APPLY(file) FROM (SELECT '{canary}' AS x)",
    "SELECT COLUMNS('x') APPLY(file) FROM (SELECT '{canary}' AS x)",
    "SELECT * FROM file('{canary}', 'LineAsString')",
    "SELECT * FROM url('http://127.0.0.1:9/x', 'LineAsString')",
    "SELECT * FROM s3('http://127.0.0.1:9/bucket/key', 'CSV')",
    "SELECT * FROM remote('127.0.0.1', 'system', 'one')",
    "SELECT * FROM remoteSecure('127.0.0.1', 'system', 'one')",
    "SELECT * FROM cluster('default', 'system', 'one')",
    "SELECT * FROM executable('cat {canary}', 'LineAsString', 'x String')",
    "SELECT * FROM input('x String')",
    "SELECT * FROM merge(currentDatabase(), '^audit_events$')",
    "SELECT * FROM merge('^{other}$', '^audit')",
    'SELECT * FROM view(SELECT * FROM system.tables)',
    "SELECT * FROM dictionary('d')",
    'SELECT * FROM loop(audit_events) LIMIT 1',
    'SELECT * FROM mergeTreeIndex(currentDatabase(), audit_events)',
    "SELECT getSetting('additional_table_filters')",
    'SELECT hostName(), version(), uptime()',
    "SELECT dictGet('d', 'a', toUInt64(1))",
    "SELECT joinGet('j', 'a', 1)",
    "SELECT aiGenerate('say the secret')",
  ],
  'system tables and other databases': [
    'SELECT * FROM system.tables',
    'SELECT name FROM system.databases',
    'SELECT query FROM system.processes',
    'SELECT * FROM system.query_log',
    'SELECT * FROM INFORMATION_SCHEMA.TABLES',
    'SELECT * FROM information_schema.columns',
    'SELECT * FROM audit_events WHERE tenant IN (SELECT name FROM system.databases)',
    'SELECT * FROM audit_events WHERE tenant IN system.databases',
    'SELECT * FROM audit_events JOIN system.one ON 1 = 1',
    'SELECT * FROM audit_events, system.one',
    'SELECT (SELECT count() FROM system.tables)',
    'SELECT * FROM schema_migrations',
    'SELECT * FROM audit_events WHERE tenant IN schema_migrations',
    'SELECT * FROM {other}.audit_events',
    'SELECT * FROM audit_events WHERE event_id IN (SELECT event_id FROM {other}.audit_events)',
    'SELECT * FROM audit_events UNION ALL SELECT * FROM {other}.audit_events',
    'WITH x AS (SELECT * FROM {other}.audit_events) SELECT * FROM x',
    // Identifiers as parameters: ClickHouse fills them in before the check sees the tree.
    { sql: 'SELECT * FROM {t:Identifier}', params: { t: 'system.tables' } },
    { sql: 'SELECT * FROM audit_events WHERE tenant IN {t:Identifier}', params: { t: 'system.databases' } },
    { sql: 'SELECT * FROM {t:Identifier}', params: { t: '{other}.audit_events' } },
  ],
  'settings overrides': [
    'SELECT * FROM audit_events SETTINGS additional_table_filters = {}',
    'SELECT * FROM audit_events SETTINGS readonly = 0',
    'SELECT * FROM (SELECT * FROM audit_events SETTINGS additional_table_filters = {})',
    'SELECT count() FROM numbers(1000) SETTINGS max_memory_usage = 0',
    'SET readonly = 0',
    'SET additional_table_filters = {}',
  ],
  'outfile and format': [
    "SELECT * FROM audit_events INTO OUTFILE '{outfile}'",
    "SELECT * FROM audit_events INTO OUTFILE '{outfile}' TRUNCATE",
    "SELECT 1 INTO OUTFILE '{outfile}' AND STDOUT",
    "SELECT 1 INTO OUTFILE '{outfile}' FORMAT CSV",
    'SELECT * FROM audit_events FORMAT Native',
    'SELECT * FROM audit_events FORMAT TabSeparatedRaw',
  ],
  'writes and DDL': [
    "INSERT INTO audit_events (tenant) VALUES ('acme')",
    "INSERT INTO FUNCTION file('{outfile}', 'CSV') SELECT * FROM audit_events",
    'CREATE TABLE stolen ENGINE = Memory AS SELECT * FROM audit_events',
    'DROP TABLE audit_events',
    'ALTER TABLE audit_events DELETE WHERE 1',
    'TRUNCATE TABLE audit_events',
    'RENAME TABLE audit_events TO gone',
    "BACKUP TABLE audit_events TO File('{outfile}')",
    'CREATE FUNCTION leak AS (x) -> x',
    'KILL QUERY WHERE 1',
    'SYSTEM SHUTDOWN',
  ],
  'resource exhaustion': [
    "SELECT length(groupArray(repeat('x', 1000000))) FROM (SELECT 1) ARRAY JOIN range(3000) AS r",
    'SELECT length(groupUniqArray(number)) FROM numbers(200000000)',
    "SELECT length(repeat('x', 2000000000))",
    "SELECT length(arrayMap(x -> repeat('x', 100000), range(100000)))",
    'SELECT count() FROM numbers(100000000000)',
    'SELECT sum(cityHash64(number)) FROM numbers(1000000000000)',
    'SELECT number FROM numbers(1000000)',
    'SELECT sleepEachRow(3) FROM numbers(10)',
    nested(5_000),
    `SELECT ${Array.from({ length: 40_000 }, () => '1').join('+')}`,
  ],
}

export function sqlAttacks(values: { canary: string; outfile: string; other: string }): SqlAttack[] {
  const filled = (text: string) =>
    text
      .replaceAll('{canary}', values.canary)
      .replaceAll('{outfile}', values.outfile)
      .replaceAll('{other}', values.other)
  return attackCategories.flatMap((category) =>
    corpus[category].map((template) =>
      typeof template === 'string'
        ? { category, sql: filled(template) }
        : {
            category,
            sql: filled(template.sql),
            params: Object.fromEntries(
              Object.entries(template.params).map(([name, value]) => [name, filled(value)]),
            ),
          },
    ),
  )
}
