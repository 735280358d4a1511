import { quoteDatabaseName } from './databaseName.js'
import { sessionSettings } from './sessionSettings.js'

/**
 * SQL run before every embedded statement, so that each one starts from the state an HTTP
 * request starts from. `SET` and `USE` in chDB last on the connection until changed, where HTTP
 * starts every request afresh, so the state is restated each time rather than assumed.
 *
 * - `SET` of the pinned session settings, except those the statement sets itself: chDB applies
 *   a statement's own settings before this prelude, which would otherwise override them.
 * - `USE db`: chDB ignores the client's `database` option, so unqualified names would land in
 *   `default`. Like the HTTP `database` parameter, this fails if the database does not exist.
 */
export function statementPrelude(
  database: string | undefined,
  settings: Record<string, unknown> | undefined,
): string {
  const pinned = Object.entries(sessionSettings)
    .filter(([name]) => settings?.[name] === undefined)
    .map(([name, value]) => `${name} = ${typeof value === 'string' ? `'${value}'` : value}`)
  const set = pinned.length === 0 ? '' : `SET ${pinned.join(', ')}; `
  const use = database === undefined ? '' : `USE ${quoteDatabaseName(database)}; `
  return set + use
}

/**
 * Whether a statement carries settings of its own. chDB applies them with `SET` on the
 * connection, where they would outlive the statement (a leftover `insert_deduplication_token`
 * silently drops the next, unrelated insert as a duplicate) and leak into statements running
 * at the same time; such a statement gets a connection to itself.
 */
export function hasStatementSettings(settings: Record<string, unknown> | undefined): boolean {
  return settings !== undefined && Object.values(settings).some((value) => value !== undefined)
}
