import {
  accessNames,
  analystFieldColumns,
  analystHiddenByDefault,
  eventRowTables,
  readerRoles,
  type AnalystField,
} from './accessNames.js'
import { userStatements, type AccessStatement } from './accessStatements.js'
import type { PasswordInput } from './passwordHash.js'
import { quoteDatabaseName } from '../databaseName.js'
import { quoteIdentifier, quoteString } from './sqlText.js'

export type AnalystOptions = {
  /** The audit database whose roles the analyst gets (its access statements have run). */
  database: string
  /** The analyst's ClickHouse user name: letters, digits and _. */
  user: string
  /** The tenants whose rows the analyst may read, or every tenant. */
  tenants: readonly string[] | 'all'
  /** Set: the user is created if missing and given this password. Unset: it must exist. */
  password?: PasswordInput
  /**
   * Of what analysts do not see by default (`ip`, `session_id`), what this analyst may see: its
   * columns are granted to the user itself. Default: none. A later run without them takes them back.
   */
  see?: readonly AnalystField[]
}

/**
 * The recipe for someone who queries ClickHouse directly (docs: access-control.md, "Analysts"):
 * the reader profile on the user itself, so that no `SET ROLE` can shed it, and the analyst role
 * (a reader's SELECT, and the per-user quota) beside the tenant roles. Every role is a default
 * role, enabled at login. Leaving out the analyst role (`SET ROLE <tenant role>`) leaves the
 * user without SELECT; leaving out the tenant roles leaves a reader whose rows are none.
 *
 * The analyst role leaves out the columns of what analysts do not see by default (the actor's IP
 * address and session id): `see` grants them to this user.
 *
 * The tenant roles must exist: run the database's access statements with these tenants first.
 */
export function analystStatements(options: AnalystOptions): AccessStatement[] {
  const names = accessNames(options.database)
  const about = `analyst ${options.user}: the reader profile, the analyst role and its tenants' roles`
  if (options.tenants !== 'all' && options.tenants.length === 0) {
    throw new RangeError(`analyst ${options.user}: no tenants: list some, or 'all'`)
  }
  // The analyst role brings the reader role with it.
  const tenantRoles = readerRoles(names, options.tenants).filter((role) => role !== names.readerRole)
  const profile = `SETTINGS PROFILE ${quoteString(names.readerProfile)}`
  const grant = `GRANT ${[names.analystRole, ...tenantRoles].map(quoteIdentifier).join(', ')} TO ${quoteIdentifier(options.user)}`
  const defaultRoles = `ALTER USER ${quoteIdentifier(options.user)} DEFAULT ROLE ALL`
  const seen = [...new Set(options.see ?? [])]
  const beyondDefault = seen.filter((field) => analystHiddenByDefault.includes(field))
  const unknown = seen.filter((field) => !Object.hasOwn(analystFieldColumns, field))
  if (unknown.length > 0) {
    throw new RangeError(
      `analyst ${options.user}: cannot see ${unknown.join(', ')}: the fields are ${Object.keys(analystFieldColumns).join(', ')}`,
    )
  }
  const db = quoteDatabaseName(options.database)
  const columns = beyondDefault.flatMap((field) => analystFieldColumns[field]).join(', ')
  // The user's own privileges are only these: WITH REPLACE OPTION (or the revoke) makes a run
  // without a field take it back.
  const seeSql =
    beyondDefault.length > 0
      ? `GRANT ${eventRowTables.map((table) => `SELECT(${columns}) ON ${db}.${quoteIdentifier(table)}`).join(', ')} ` +
        `TO ${quoteIdentifier(options.user)} WITH REPLACE OPTION`
      : `REVOKE SELECT ON ${db}.* FROM ${quoteIdentifier(options.user)}`
  const seeAbout = `analyst ${options.user}: ${beyondDefault.length > 0 ? `also sees ${beyondDefault.join(', ')}` : 'sees what analysts see by default'}`
  return [
    ...userStatements(about, options.user, options.password, {
      create: profile,
      alter: profile,
    }),
    { about, sql: grant, shown: grant },
    { about, sql: defaultRoles, shown: defaultRoles },
    { about: seeAbout, sql: seeSql, shown: seeSql },
  ]
}
