import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { emptyBatch, type BatchRow, type SinkBatch } from '../batching/sinkBatch.js'
import { sinkFailpoints, writeBatch, type BatchWriter } from './writeBatch.js'

const record = (offset: number): KafkaRecord =>
  ({ topic: 't', partition: 0, offset: String(offset), key: null, value: null, headers: {} }) as KafkaRecord
const row = (offset: number, partition: number): BatchRow => ({
  line: `{"offset":${offset}}\n`,
  eventId: `event-${offset}`,
  partition,
  record: record(offset),
})
const batchOf = (rows: BatchRow[], failedOffsets: number[] = []): SinkBatch => ({
  ...emptyBatch(),
  rows,
  failed: failedOffsets.map((offset) => ({
    record: record(offset),
    failure: { errorClass: 'EVENT_UNDECODABLE', message: 'no event' },
  })),
  records: rows.length + failedOffsets.length,
})

/** Every call the batch writer makes, in order: inserts (offsets), failpoints reached, dead letters. */
function recordingWriter() {
  const calls: string[] = []
  const writer: BatchWriter = {
    insert: (rows) => {
      calls.push(`insert ${rows.map((r) => r.record.offset).join(',')}`)
      return Promise.resolve()
    },
    sendDeadLetters: (letters) => {
      calls.push(`dead letters ${letters.length}`)
      return Promise.resolve()
    },
    deadLetterOf: (failed) => ({ key: failed.offset, value: null }),
    write: {
      backoff: { initialDelayMs: 1, maxDelayMs: 1, multiplier: 1 },
      signal: new AbortController().signal,
      onRetry: () => undefined,
    },
    failpoints: { reach: (name) => calls.push(`failpoint ${name}`) },
  }
  return { writer, calls }
}

describe('writeBatch', () => {
  it('writes one insert per month, so each insert is one part, all or nothing', async () => {
    const { writer, calls } = recordingWriter()
    const rows = [row(0, 202403), row(1, 202404), row(2, 202403), row(3, 202404)]
    await writeBatch({ batch: batchOf(rows), reason: 'rows' }, writer)
    expect(calls).toEqual(['insert 0,2', `failpoint ${sinkFailpoints.betweenParts}`, 'insert 1,3'])
  })

  it('sends the dead letters after every insert, and only then is the batch written', async () => {
    const { writer, calls } = recordingWriter()
    const written = await writeBatch(
      { batch: batchOf([row(0, 202412), row(2, 202412)], [1]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual(['insert 0,2', `failpoint ${sinkFailpoints.beforeDeadLetters}`, 'dead letters 1'])
    expect(written.deadLetterClasses).toEqual(['EVENT_UNDECODABLE'])
  })
})
