// Runs one query on the ClickHouse a drill's services write to and prints the rows as JSON lines:
// an embedded data folder, or a server URL (with CLICKHOUSE_USERNAME/CLICKHOUSE_PASSWORD from the
// environment). A child process, because a process can hold one embedded data folder only and a
// test worker has its own.
// Usage: node test/support/queryStorage.mjs <dataPath | http(s)://server> <database> <sql>
import process from 'node:process'
import { openStorage } from '@audit-pipeline/storage'

const [where, database, query] = process.argv.slice(2)
const storage = await openStorage(
  /^https?:\/\//.test(where)
    ? {
        kind: 'http',
        url: where,
        database,
        ...(process.env.CLICKHOUSE_USERNAME && { username: process.env.CLICKHOUSE_USERNAME }),
        ...(process.env.CLICKHOUSE_PASSWORD && { password: process.env.CLICKHOUSE_PASSWORD }),
      }
    : { kind: 'embedded', dataPath: where, database },
)
try {
  const result = await storage.client.query({ query, format: 'JSONEachRow' })
  for (const row of await result.json()) process.stdout.write(`${JSON.stringify(row)}\n`)
} finally {
  await storage.close()
}
