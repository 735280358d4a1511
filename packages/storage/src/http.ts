import { createClient, type ClickHouseClientConfigOptions } from '@clickhouse/client'
import { quoteDatabaseName } from './databaseName.js'
import { pingStorage } from './ping.js'
import { sessionSettings } from './sessionSettings.js'
import type { Storage } from './storage.js'
import type { HttpStorageConfig } from './storageConfig.js'

export async function openHttpStorage(config: HttpStorageConfig): Promise<Storage> {
  if (config.database !== undefined) quoteDatabaseName(config.database)
  const client = createClient(httpClientOptions(config, config.database))
  const url = redactedUrl(config.url)
  let closing: Promise<void> | undefined
  return Promise.resolve({
    client,
    describe: () => ({ transport: 'http', url, database: config.database ?? 'default' }),
    ping: () => pingStorage(client, url),
    async ensureDatabase(name) {
      const query = `CREATE DATABASE IF NOT EXISTS ${quoteDatabaseName(name)}`
      // The server rejects any request whose `database` parameter names a missing database,
      // CREATE DATABASE included, so this goes through a client without one.
      const admin = createClient(httpClientOptions(config, undefined))
      try {
        await admin.command({ query })
      } finally {
        await admin.close()
      }
    },
    close: () => (closing ??= client.close()),
  })
}

export function httpClientOptions(
  config: HttpStorageConfig,
  database: string | undefined,
): ClickHouseClientConfigOptions {
  return {
    url: config.url,
    username: config.username,
    password: config.password,
    database,
    request_timeout: config.requestTimeoutMs,
    clickhouse_settings: sessionSettings,
  }
}

/** The URL without credentials or parameters, for logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
}
