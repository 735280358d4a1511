// Another process holding an embedded data directory, as a second service started without
// CLICKHOUSE_URL would: opens the directory given as argv[2], says "ready", and lets go when its
// stdin closes. Plain JavaScript so that a test can start it with `node`, without a TS loader.
import { createChdbConnection } from 'chdb/connection'

const connection = createChdbConnection({ path: process.argv[2] })
await connection.command({ query: 'SELECT 1' })
process.stdout.write('ready\n')
process.stdin.resume()
process.stdin.on('end', () => {
  void connection.close().then(() => process.exit(0))
})
