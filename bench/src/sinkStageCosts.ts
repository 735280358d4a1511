import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { drainStream } from '@clickhouse/client'
import { eventRow, type AuditEventRow } from '@audit-pipeline/clickhouse-schema'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import type { Storage } from '@audit-pipeline/storage'
import type { StageCost } from './stageCosts.js'

/**
 * Time per message of each step the sink takes, over Avro messages as they sit in its input
 * topic, without Kafka: decoding and mapping to a row on this thread, then inserting the rows
 * into `table` (the same schema, materialized views included) as the sink inserts them
 * (JSONEachRow lines as bytes, a deduplication token, `batchRows` rows per insert), and the same rows once
 * more read by ClickHouse from a file. Inserts are wall time, the client's serialising included;
 * ClickHouse does its part on threads of its own.
 */
export async function sinkStageCosts(options: {
  messages: readonly Buffer[]
  codec: AuditEventCodec
  storage: Storage
  table: string
  batchRows: number
}): Promise<StageCost[]> {
  const { messages, codec, storage, table, batchRows } = options
  const events: AuditEvent[] = []
  const rows: AuditEventRow[] = []
  const time = async (stage: string, count: number, run: () => Promise<unknown>): Promise<StageCost> => {
    const started = process.hrtime.bigint()
    await run()
    return { stage, microsPerEvent: Number(process.hrtime.bigint() - started) / 1e3 / count }
  }
  const decode = await time('decode: Avro to event (codec.decode)', messages.length, async () => {
    for (const message of messages) events.push(await codec.decode(message))
  })
  const map = await time('eventRow: event to row', messages.length, () => {
    events.forEach((event, i) =>
      rows.push(eventRow(event, { topic: 'bench', partition: 0, offset: String(i) })),
    )
    return Promise.resolve()
  })
  const lines: string[] = []
  const serialise = await time('JSON.stringify of the row (a JSONEachRow line)', rows.length, () => {
    for (const row of rows) lines.push(`${JSON.stringify(row)}\n`)
    return Promise.resolve()
  })
  // As the sink writes: the batch's lines joined into one Buffer, sent with `exec`.
  const insert = await time(`insert, ${batchRows} rows at a time (wall)`, rows.length, async () => {
    for (let i = 0; i < lines.length; i += batchRows) {
      const { stream } = await storage.client.exec({
        query: `INSERT INTO ${table} FORMAT JSONEachRow`,
        values: Readable.from([Buffer.from(lines.slice(i, i + batchRows).join(''))], { objectMode: false }),
        clickhouse_settings: { insert_deduplication_token: randomUUID() },
      })
      await drainStream(stream)
    }
  })
  // ClickHouse's own part, without the client: the same rows read from a file by ClickHouse
  // itself (written beforehand, not timed). What the insert costs above this is the transport.
  const file = join(tmpdir(), `audit-bench-rows-${process.pid}.ndjson`)
  try {
    const files: string[] = []
    for (let i = 0; i < rows.length; i += batchRows) {
      const path = `${file}.${files.length}`
      writeFileSync(
        path,
        rows
          .slice(i, i + batchRows)
          .map((row) => JSON.stringify(row))
          .join('\n'),
      )
      files.push(path)
    }
    const own = await time(
      '  of which ClickHouse alone: INSERT … SELECT FROM file()',
      rows.length,
      async () => {
        for (const path of files) {
          await storage.client.command({
            query: `INSERT INTO ${table} SELECT * FROM file('${path.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}', 'JSONEachRow')`,
            clickhouse_settings: { insert_deduplication_token: randomUUID() },
          })
        }
      },
    )
    return [decode, map, serialise, insert, own]
  } finally {
    for (let i = 0; i * batchRows < rows.length; i++) rmSync(`${file}.${i}`, { force: true })
  }
}
