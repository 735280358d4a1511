import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { loadConnectionSettings } from '@audit-pipeline/config'
import {
  accessNames,
  accessStatements,
  ClickHouseError,
  openStorage,
  type AccessNames,
  type AccessStatement,
  type HttpStorageConfig,
  type Storage,
} from '@audit-pipeline/storage'
import { tenantsOfKeysFile, userPasswords, type AccessApplyRequest } from './clickhouseAccessOptions.js'

export type AccessApplyIo = { out: (line: string) => void; err: (line: string) => void }

/** What the command does to the outside world, replaceable in tests. */
export type AccessApplyDeps = {
  openStorage: (config: HttpStorageConfig) => Promise<Storage>
  readFile: (path: string) => string
  /** A fresh salt for each password hashed (ClickHouse makes 64 hex digits itself). */
  newSalt: () => string
}

export const defaultAccessApplyDeps: AccessApplyDeps = {
  openStorage,
  readFile: (path) => readFileSync(path, 'utf8'),
  newSalt: () => randomBytes(32).toString('hex'),
}

export const embeddedRefusal =
  'access control is a ClickHouse server feature: set CLICKHOUSE_URL to the server to apply it. ' +
  'Without CLICKHOUSE_URL the pipeline runs ClickHouse embedded (chDB) inside its processes, which has no users, roles or ' +
  "row policies: there the query API limits each key's tenants with its own filter and caps, and the data is only as " +
  'protected as its folder on disk (services/clickhouse-sink/docs/access-control.md, "Embedded ClickHouse")'

/**
 * The oldest server the plan works on: the query API names its key's roles with the HTTP `role`
 * parameter, added in 24.4 (docs/en/interfaces/http.md), as were `TABLE ENGINE` grants.
 */
const minimumServer = { major: 24, minor: 4 }

/**
 * `audit-pipeline clickhouse access apply`: runs accessStatements on the server of CLICKHOUSE_URL
 * as the administrator of CLICKHOUSE_ADMIN_USERNAME / CLICKHOUSE_ADMIN_PASSWORD, for the
 * tenants of the keys file and of `--tenant`. Idempotent: run it after every new tenant. With
 * `dryRun`, prints the statements (password hashes hidden) and connects to nothing.
 */
export async function accessApplyCommand(
  request: AccessApplyRequest,
  env: NodeJS.ProcessEnv,
  io: AccessApplyIo,
  deps: AccessApplyDeps = defaultAccessApplyDeps,
): Promise<number> {
  const clickhouse = loadConnectionSettings(env).clickhouse
  if (clickhouse.kind !== 'http') throw new Error(embeddedRefusal)
  const database = request.database ?? clickhouse.database
  const names = accessNames(database)

  const fromKeys = request.keysFile ? readKeysFileTenants(request.keysFile, deps) : []
  if (!request.keysFile) {
    io.err(
      'no keys file (--keys-file, QUERY_API_KEYS_FILE): only the --tenant tenants get roles, and a key restricted to another tenant fails until its role exists',
    )
  }
  const tenants = [...new Set([...request.tenants, ...fromKeys])].sort()
  const passwords = userPasswords(env)
  const statements = accessStatements({
    database,
    tenants,
    limits: request.limits,
    quota: request.quota,
    ...(passwords.sink !== undefined && { sinkPassword: { password: passwords.sink, salt: deps.newSalt() } }),
    ...(passwords.queryApi !== undefined && {
      queryApiPassword: { password: passwords.queryApi, salt: deps.newSalt() },
    }),
  })

  if (request.dryRun) {
    io.out(
      `-- ${statements.length} statements for database ${database} and ${tenants.length} tenant(s); password hashes hidden`,
    )
    printPlan(statements, io.out)
    return 0
  }

  const admin = adminCredentials(env)
  const storage = await deps.openStorage({ kind: 'http', url: clickhouse.url, ...admin })
  try {
    await checkServerVersion(storage)
    await checkUsersExist(storage, names, passwords)
    for (const [index, statement] of statements.entries()) {
      try {
        await storage.client.command({ query: statement.sql })
      } catch (error) {
        throw statementFailure(error, statement, index, statements.length)
      }
    }
  } finally {
    await storage.close()
  }
  io.out(
    `applied ${statements.length} statements to ${serverOf(storage)}: database ${database}, users ` +
      `${names.sinkUser} and ${names.queryApiUser}, ${tenants.length} tenant role(s)`,
  )
  return 0
}

/** Where the storage is, safe to print (no credentials). */
function serverOf(storage: Storage): string {
  const description = storage.describe()
  return description.transport === 'http' ? description.url : description.dataPath
}

function readKeysFileTenants(keysFile: { path: string; origin: string }, deps: AccessApplyDeps): string[] {
  let text: string
  try {
    text = deps.readFile(keysFile.path)
  } catch (error) {
    throw new Error(`${keysFile.origin}: cannot read ${keysFile.path}: ${(error as Error).message}`)
  }
  return tenantsOfKeysFile(text, keysFile.path)
}

function printPlan(statements: readonly AccessStatement[], out: (line: string) => void): void {
  let about: string | undefined
  for (const statement of statements) {
    if (statement.about !== about) {
      about = statement.about
      out('')
      out(`-- ${about}`)
    }
    out(`${statement.shown};`)
  }
}

function adminCredentials(env: NodeJS.ProcessEnv): { username: string; password: string } {
  const username = env['CLICKHOUSE_ADMIN_USERNAME']?.trim()
  if (!username) {
    throw new Error(
      'CLICKHOUSE_ADMIN_USERNAME: required to apply: a ClickHouse user allowed to manage access (CREATE USER/ROLE/ROW POLICY/QUOTA/SETTINGS PROFILE, ROLE ADMIN, and the granted privileges WITH GRANT OPTION), with CLICKHOUSE_ADMIN_PASSWORD; --dry-run needs neither',
    )
  }
  return { username, password: env['CLICKHOUSE_ADMIN_PASSWORD'] ?? '' }
}

async function checkServerVersion(storage: Storage): Promise<void> {
  const result = await storage.client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' })
  const [row] = await result.json<{ version: string }>()
  const [major = 0, minor = 0] = (row?.version ?? '').split('.').map(Number)
  if (major < minimumServer.major || (major === minimumServer.major && minor < minimumServer.minor)) {
    throw new Error(
      `ClickHouse ${row?.version ?? '(unknown version)'} at ${serverOf(storage)} is too old: ` +
        `the query API names its roles per query with the HTTP role parameter, which needs ${minimumServer.major}.${minimumServer.minor} or newer`,
    )
  }
}

/** A user the plan does not create (no password given) must already exist. */
async function checkUsersExist(
  storage: Storage,
  names: AccessNames,
  passwords: { sink?: string; queryApi?: string },
): Promise<void> {
  const needed = [
    ...(passwords.sink === undefined ? [{ user: names.sinkUser, variable: 'CLICKHOUSE_SINK_PASSWORD' }] : []),
    ...(passwords.queryApi === undefined
      ? [{ user: names.queryApiUser, variable: 'CLICKHOUSE_QUERY_API_PASSWORD' }]
      : []),
  ]
  if (needed.length === 0) return
  const result = await storage.client.query({
    query: 'SELECT name FROM system.users WHERE name IN {names:Array(String)}',
    query_params: { names: needed.map((entry) => entry.user) },
    format: 'JSONEachRow',
  })
  const existing = new Set((await result.json<{ name: string }>()).map((row) => row.name))
  const missing = needed.filter((entry) => !existing.has(entry.user))
  if (missing.length > 0) {
    throw new Error(
      missing
        .map(
          (entry) =>
            `${entry.variable}: required the first time: user ${entry.user} does not exist on ${serverOf(storage)}`,
        )
        .join('; '),
    )
  }
}

/**
 * The statement that failed, as shown (no password hash), and ClickHouse's reason. A statement
 * carrying a hash gets the error's type and code only: a server message may quote the statement.
 */
function statementFailure(error: unknown, statement: AccessStatement, index: number, count: number): Error {
  const where = `statement ${index + 1} of ${count} failed (${statement.about}):\n  ${statement.shown}\n`
  if (!(error instanceof ClickHouseError)) {
    return new Error(`${where}${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  const reason =
    statement.sql === statement.shown
      ? error.message
      : `ClickHouse refused it: ${error.type} (code ${error.code})`
  // Not `cause`: run() prints only the message, and the cause's message may quote the statement.
  return new Error(`${where}${reason}`)
}
