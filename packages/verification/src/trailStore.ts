import { checkpointOfStoredRow, type StoredCheckpointRow } from '@audit-pipeline/clickhouse-schema'
import type { SignedCheckpoint } from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'
import { trailTableNames, type Statement } from './trailQueries.js'
import { VerificationError } from './verificationError.js'

/**
 * How verification talks to ClickHouse: small answers as JSONEachRow, pages of rows as Native
 * bytes (decoded by the caller, on a worker thread for events). Every statement runs on its own:
 * no session state, the same on a server and on embedded ClickHouse.
 */

export async function queryRows<Row>(storage: Storage, statement: Statement): Promise<Row[]> {
  const result = await storage.client.query({
    query: statement.query,
    query_params: statement.params,
    format: 'JSONEachRow',
  })
  return result.json<Row>()
}

/** The statement's answer as bytes: the statement names its format (`FORMAT Native`). */
export async function queryBytes(storage: Storage, statement: Statement): Promise<Buffer> {
  const result = await storage.client.exec({ query: statement.query, query_params: statement.params })
  const chunks: Buffer[] = []
  for await (const chunk of result.stream as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
}

/** Stored checkpoints, each distinct, in checkpoint_seq order (ties in the order read). */
export async function queryCheckpoints(storage: Storage, statement: Statement): Promise<SignedCheckpoint[]> {
  const rows = await queryRows<StoredCheckpointRow>(storage, statement)
  return rows.map(checkpointOfStoredRow).sort((a, b) => a.checkpoint_seq - b.checkpoint_seq)
}

/**
 * Checks that `database` holds the trail's tables before reading them, so a wrong database or
 * server is named as such rather than as a missing table halfway through.
 */
export async function assertTrailTables(storage: Storage, database: string): Promise<void> {
  const present = new Set(
    (
      await queryRows<{ name: string }>(storage, {
        query: 'SELECT name FROM system.tables WHERE database = {database:String}',
        params: { database },
      })
    ).map((row) => row.name),
  )
  const missing = trailTableNames.filter((name) => !present.has(name))
  if (missing.length > 0) {
    throw new VerificationError(
      'STORAGE_UNREADABLE',
      `database ${database} holds no audit trail (no ${missing.join(', ')}): is CLICKHOUSE_DATABASE the pipeline's database, and has the sink run its migrations there?`,
    )
  }
}
