import { randomBytes } from 'node:crypto'
import {
  accessNames,
  accessStatements,
  accessTeardownStatements,
  openStorage,
  type Storage,
} from '@audit-pipeline/storage'

/**
 * On a ClickHouse server, the query API runs as its own user with the roles of each key's
 * tenants (`audit-pipeline clickhouse access apply`): this applies that access for a test's
 * database and `tenants`, with the run's administrator (`admin`: the URL's user, or
 * CLICKHOUSE_ADMIN_USERNAME / CLICKHOUSE_ADMIN_PASSWORD), and opens a storage as the query API's
 * user, whose credentials it returns for a process of the API. `close` closes it and removes the
 * users, roles and policies it made.
 */
export async function queryApiUserStorage(
  admin: Storage,
  url: string,
  database: string,
  tenants: readonly string[],
): Promise<{ storage: Storage; username: string; password: string; close(): Promise<void> }> {
  const password = randomBytes(16).toString('hex')
  const salt = () => randomBytes(32).toString('hex')
  const statements = accessStatements({
    database,
    tenants,
    sinkPassword: { password: randomBytes(16).toString('hex'), salt: salt() },
    queryApiPassword: { password, salt: salt() },
  })
  const teardown = async () => {
    for (const statement of accessTeardownStatements(database, [...tenants])) {
      await admin.client.command({ query: statement.sql })
    }
  }
  try {
    for (const statement of statements) await admin.client.command({ query: statement.sql })
  } catch (error) {
    await teardown()
    throw error
  }
  const username = accessNames(database).queryApiUser
  const storage = await openStorage({ kind: 'http', url, database, username, password })
  return {
    storage,
    username,
    password,
    async close() {
      await storage.close()
      await teardown()
    },
  }
}
