// Runs one query on an embedded ClickHouse data folder and prints the rows as JSON lines. A child
// process, because a process can hold one embedded data folder only and a test worker has its own.
// Usage: node test/support/queryEmbedded.mjs <dataPath> <database> <sql>
import process from 'node:process'
import { openStorage } from '@audit-pipeline/storage'

const [dataPath, database, query] = process.argv.slice(2)
const storage = await openStorage({ kind: 'embedded', dataPath, database })
try {
  const result = await storage.client.query({ query, format: 'JSONEachRow' })
  for (const row of await result.json()) process.stdout.write(`${JSON.stringify(row)}\n`)
} finally {
  await storage.close()
}
