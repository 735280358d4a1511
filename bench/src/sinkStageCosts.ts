import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventColumns, eventRow, type AuditEventRow } from '@audit-pipeline/clickhouse-schema'
import {
  eventRowColumns,
  eventRowFormat,
  eventRowInserter,
  eventRowLine,
} from '@audit-pipeline/clickhouse-sink'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import type { Storage } from '@audit-pipeline/storage'
import type { StageCost } from './stageCosts.js'

/**
 * Time per message of each step the sink takes, over Avro messages as they sit in its input
 * topic, without Kafka: decoding and mapping to a row on this thread, then inserting the rows
 * into `table` (the same schema, materialized views included) as the sink inserts them
 * (JSONCompactEachRow lines as bytes, a deduplication token, `batchRows` rows per insert), and the same rows once
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
  const lines: { line: Buffer }[] = []
  const serialise = await time(
    `the row as a ${eventRowFormat} line (eventRowLine, UTF-8)`,
    rows.length,
    () => {
      for (const row of rows) lines.push({ line: Buffer.from(eventRowLine(row)) })
      return Promise.resolve()
    },
  )
  // As the sink writes: the batch's lines concatenated into one Buffer, sent with `exec`.
  const insertRows = eventRowInserter(storage, table)
  const insert = await time(`insert, ${batchRows} rows at a time (wall)`, rows.length, async () => {
    for (let i = 0; i < lines.length; i += batchRows) {
      await insertRows(lines.slice(i, i + batchRows), randomUUID())
    }
  })
  // ClickHouse's own part, without the client: the same rows read from a file by ClickHouse
  // itself (written beforehand, not timed). What the insert costs above this is the transport.
  const sqlText = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")
  const structure = sqlText(eventColumns.map(([name, type]) => `${name} ${type}`).join(', '))
  const file = join(tmpdir(), `audit-bench-rows-${process.pid}.ndjson`)
  try {
    const files: string[] = []
    for (let i = 0; i < rows.length; i += batchRows) {
      const path = `${file}.${files.length}`
      writeFileSync(
        path,
        rows
          .slice(i, i + batchRows)
          .map(eventRowLine)
          .join(''),
      )
      files.push(path)
    }
    const own = await time(
      '  of which ClickHouse alone: INSERT … SELECT FROM file()',
      rows.length,
      async () => {
        for (const path of files) {
          await storage.client.command({
            query: `INSERT INTO ${table} (${eventRowColumns.join(', ')}) SELECT * FROM file('${sqlText(path)}', '${eventRowFormat}', '${structure}')`,
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
