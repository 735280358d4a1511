import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readApiKeysFile } from '@audit-pipeline/api-keys'
import { accessNames, accessStatements, openStorage } from '@audit-pipeline/storage'

/** A ClickHouse user's login, as a service's CLICKHOUSE_USERNAME and CLICKHOUSE_PASSWORD. */
export type ClickHouseLogin = { CLICKHOUSE_USERNAME: string; CLICKHOUSE_PASSWORD: string }

export type LocalClickHouseUsers = { sink: ClickHouseLogin; queryApi: ClickHouseLogin }

type StoredPasswords = { sink: string; queryApi: string }

const passwordsFile = (stateDir: string) => join(stateDir, 'clickhouse-users.json')

/**
 * With a ClickHouse server (`CLICKHOUSE_URL`), `npm start` runs the sink and the query API as
 * users of their own, as production does: it applies `audit-pipeline clickhouse access apply`'s
 * statements with the server user it was given (CLICKHOUSE_USERNAME / CLICKHOUSE_PASSWORD, or
 * the URL's), for every tenant a key in the keys file is restricted to, and returns the two
 * logins. Their passwords are made once and kept in the state folder (mode 600), so a restart
 * leaves the users as they were. Tenants of keys made later get their roles from the command, or
 * from the next `npm start`.
 */
export async function applyLocalClickHouseAccess(options: {
  stateDir: string
  url: string
  database: string
  keysFile: string
  env: NodeJS.ProcessEnv
}): Promise<LocalClickHouseUsers> {
  const passwords = localPasswords(options.stateDir)
  const salt = () => randomBytes(32).toString('hex')
  const tenants = [
    ...new Set(
      readApiKeysFile(options.keysFile).flatMap((key) => (key.tenants === 'all' ? [] : key.tenants)),
    ),
  ]
  const statements = accessStatements({
    database: options.database,
    tenants,
    sinkPassword: { password: passwords.sink, salt: salt() },
    queryApiPassword: { password: passwords.queryApi, salt: salt() },
  })
  const username = options.env['CLICKHOUSE_USERNAME']
  const admin = await openStorage({
    kind: 'http',
    url: options.url,
    ...(username && { username, password: options.env['CLICKHOUSE_PASSWORD'] ?? '' }),
  })
  try {
    for (const statement of statements) {
      try {
        await admin.client.command({ query: statement.sql })
      } catch (error) {
        throw new Error(
          `could not give the sink and the query API their ClickHouse users (${statement.about}): ` +
            `${(error as Error).message.trim()}. The user of CLICKHOUSE_URL (or CLICKHOUSE_USERNAME) must be ` +
            'allowed to manage access (access_management = 1): see services/clickhouse-sink/docs/access-control.md',
          { cause: error },
        )
      }
    }
  } finally {
    await admin.close()
  }
  const names = accessNames(options.database)
  return {
    sink: { CLICKHOUSE_USERNAME: names.sinkUser, CLICKHOUSE_PASSWORD: passwords.sink },
    queryApi: { CLICKHOUSE_USERNAME: names.queryApiUser, CLICKHOUSE_PASSWORD: passwords.queryApi },
  }
}

function localPasswords(stateDir: string): StoredPasswords {
  const file = passwordsFile(stateDir)
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<StoredPasswords>
    if (typeof stored.sink === 'string' && typeof stored.queryApi === 'string') {
      return { sink: stored.sink, queryApi: stored.queryApi }
    }
  }
  const made = { sink: randomBytes(24).toString('hex'), queryApi: randomBytes(24).toString('hex') }
  writeFileSync(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 })
  return made
}
