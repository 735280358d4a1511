// Runs several queries on the ClickHouse a test's services wrote to and prints one JSON line per
// query: the array of its rows. Like test/support/queryStorage.mjs (an embedded data folder, or a
// server URL with CLICKHOUSE_USERNAME/CLICKHOUSE_PASSWORD from the environment), but opening the
// storage once for all of them: opening an embedded data folder is the slow part.
// A child process, because a process can hold one embedded data folder only and a test worker has its own.
// Usage: node test/integrity/support/queryStorageBatch.mjs <dataPath | http(s)://server> <database> <JSON array of SQL>
import process from 'node:process'
import { openStorage } from '@audit-pipeline/storage'

const [where, database, queries] = process.argv.slice(2)
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
  for (const query of JSON.parse(queries)) {
    const result = await storage.client.query({ query, format: 'JSONEachRow' })
    process.stdout.write(`${JSON.stringify(await result.json())}\n`)
  }
} finally {
  await storage.close()
}
