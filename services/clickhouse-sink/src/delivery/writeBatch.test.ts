import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { ClickHouseError } from '@clickhouse/client'
import { emptyBatch, type BatchRow, type SinkBatch } from '../batching/sinkBatch.js'
import { eventKeyOf, type EventIdentity } from '../integrity/eventIdentity.js'
import type { RowTarget } from './rowTarget.js'
import { eventIdConflict, rowRejected, sinkFailpoints, writeBatch, type BatchWriter } from './writeBatch.js'

const record = (offset: number): KafkaRecord =>
  ({ topic: 't', partition: 0, offset: String(offset), key: null, value: null, headers: {} }) as KafkaRecord
const identity = (n: number, digest = `digest-${n}`): EventIdentity => ({
  tenant: 'acme',
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  digest,
  occurredAtMs: 0,
  category: 'business',
})
const row = (
  offset: number,
  partition: number,
  extra: { event?: number; digest?: string; eventStored?: boolean; target?: RowTarget } = {},
): BatchRow => ({
  line: Buffer.from(`{"offset":${offset}}\n`),
  eventId: identity(extra.event ?? offset).eventId,
  partition,
  record: record(offset),
  identity: identity(extra.event ?? offset, extra.digest),
  eventStored: extra.eventStored ?? false,
  target: extra.target ?? 'trail',
})
/** A row of a record at temporal level 1. */
const latestRow = (offset: number, partition: number, extra: { event?: number; digest?: string } = {}) =>
  row(offset, partition, { ...extra, target: 'latest' })
const batchOf = (rows: BatchRow[], failedOffsets: number[] = []): SinkBatch => ({
  ...emptyBatch(),
  rows,
  failed: failedOffsets.map((offset) => ({
    record: record(offset),
    failure: { errorClass: 'EVENT_UNDECODABLE', message: 'no event' },
  })),
  records: rows.length + failedOffsets.length,
})

/**
 * Every call the batch writer makes, in order: the look-up, inserts (offsets), failpoints reached,
 * chain entries (event numbers by their last digits), dead letters. `stored`: the digests the trail holds.
 */
function recordingWriter(stored: EventIdentity[] = []) {
  const calls: string[] = []
  const letters: Parameters<BatchWriter['deadLetterOf']>[1][] = []
  const writer: BatchWriter = {
    storedDigests: (identities) => {
      calls.push(`look up ${identities.length}`)
      return Promise.resolve(new Map(stored.map((s) => [eventKeyOf(s), s.digest])))
    },
    chain: {
      record: (events) => {
        calls.push(`chain ${events.map((e) => Number(e.identity.eventId.slice(-12))).join(',')}`)
        return Promise.resolve({ entries: events.length, checkpoints: 0 })
      },
    },
    insert: (rows) => {
      calls.push(`insert ${rows.map((r) => r.record.offset).join(',')}`)
      return Promise.resolve()
    },
    insertLatest: (rows) => {
      calls.push(`insert latest ${rows.map((r) => r.record.offset).join(',')}`)
      return Promise.resolve()
    },
    sendDeadLetters: (sent) => {
      calls.push(`dead letters ${sent.length}`)
      return Promise.resolve()
    },
    deadLetterOf: (failed, failure) => {
      letters.push(failure)
      return { key: failed.offset, value: null }
    },
    write: {
      backoff: { initialDelayMs: 1, maxDelayMs: 1, multiplier: 1 },
      signal: new AbortController().signal,
      onRetry: () => undefined,
    },
    failpoints: { reach: (name) => calls.push(`failpoint ${name}`) },
  }
  return { writer, calls, letters }
}

describe('writeBatch', () => {
  it('writes one insert per month, so each insert is one part, all or nothing, then the chain entries', async () => {
    const { writer, calls } = recordingWriter()
    const rows = [row(0, 202403), row(1, 202404), row(2, 202403), row(3, 202404)]
    await writeBatch({ batch: batchOf(rows), reason: 'rows' }, writer)
    expect(calls).toEqual([
      'look up 4',
      'insert 0,2',
      `failpoint ${sinkFailpoints.betweenParts}`,
      'insert 1,3',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 0,1,2,3',
    ])
  })

  it('sends the dead letters after every insert and the chain, and only then is the batch written', async () => {
    const { writer, calls } = recordingWriter()
    const written = await writeBatch(
      { batch: batchOf([row(0, 202412), row(2, 202412)], [1]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual([
      'look up 2',
      'insert 0,2',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 0,2',
      `failpoint ${sinkFailpoints.beforeDeadLetters}`,
      'dead letters 1',
    ])
    expect(written.deadLetterClasses).toEqual(['EVENT_UNDECODABLE'])
  })

  it('keeps the stored copy: a replay is only committed, a rewrite is dead-lettered with both digests', async () => {
    const original = identity(7, 'original')
    const { writer, calls, letters } = recordingWriter([original])
    const written = await writeBatch(
      {
        batch: batchOf([
          row(10, 202412, { event: 7, digest: 'original' }),
          row(11, 202412, { event: 7, digest: 'rewritten' }),
          row(12, 202412),
        ]),
        reason: 'age',
      },
      writer,
    )
    expect(calls).toEqual([
      'look up 3',
      'insert 12',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 12',
      `failpoint ${sinkFailpoints.beforeDeadLetters}`,
      'dead letters 1',
    ])
    expect(written).toMatchObject({ replays: 1, conflicts: 1, deadLetterClasses: [eventIdConflict] })
    expect(letters[0]).toMatchObject({
      errorClass: eventIdConflict,
      conflict: {
        tenant: 'acme',
        eventId: original.eventId,
        storedDigest: 'original',
        refusedDigest: 'rewritten',
      },
    })
  })

  it('chains a row stored before a crash without inserting it again', async () => {
    const { writer, calls } = recordingWriter()
    await writeBatch(
      { batch: batchOf([row(0, 202412, { eventStored: true }), row(1, 202412)]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual(['look up 2', 'insert 1', `failpoint ${sinkFailpoints.beforeChain}`, 'chain 0,1'])
  })

  it('does not chain a row ClickHouse refused', async () => {
    const { writer, calls } = recordingWriter()
    writer.insert = (rows) => {
      calls.push(`insert ${rows.map((r) => r.record.offset).join(',')}`)
      if (rows.some((r) => r.record.offset === '1')) {
        return Promise.reject(
          new ClickHouseError({
            message: 'Cannot parse input',
            code: '27',
            type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
          }),
        )
      }
      return Promise.resolve()
    }
    const written = await writeBatch(
      { batch: batchOf([row(0, 202412), row(1, 202412)]), reason: 'age' },
      writer,
    )
    expect(calls.filter((c) => c.startsWith('chain'))).toEqual(['chain 0'])
    expect(written.rejected.map((r) => r.row.record.offset)).toEqual(['1'])
  })

  it('writes temporal level 1 rows to the latest-state table in one insert, and chains only the trail rows', async () => {
    const { writer, calls } = recordingWriter()
    // Months do not matter there: that table has no partitions, so one insert is one part.
    const written = await writeBatch(
      {
        batch: batchOf([row(0, 202403), latestRow(1, 202403), latestRow(2, 202404), row(3, 202403)]),
        reason: 'rows',
      },
      writer,
    )
    expect(calls).toEqual([
      'look up 2',
      'insert 0,3',
      'insert latest 1,2',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 0,3',
    ])
    expect(written).toMatchObject({ inserted: 2, insertedLatest: 2, chained: { entries: 2 } })
  })

  it('neither looks up the trail nor chains anything for a batch of temporal level 1 rows only', async () => {
    const { writer, calls } = recordingWriter()
    const written = await writeBatch(
      { batch: batchOf([latestRow(0, 202412), latestRow(1, 202412)], [2]), reason: 'age' },
      writer,
    )
    // The chain writer is still called, with nothing: it writes any checkpoint due by time.
    expect(calls).toEqual([
      'insert latest 0,1',
      'chain ',
      `failpoint ${sinkFailpoints.beforeDeadLetters}`,
      'dead letters 1',
    ])
    expect(written).toMatchObject({
      inserted: 0,
      insertedLatest: 2,
      deadLetterClasses: ['EVENT_UNDECODABLE'],
    })
  })

  it('takes a temporal level 1 event for what it says, whatever the trail holds under its id', async () => {
    // Same (tenant, event_id) as a chained event, other content: no conflict, since a row of the
    // latest-state table replaces only an older change of its own record, never a stored event.
    const { writer, calls, letters } = recordingWriter([identity(7, 'original')])
    const written = await writeBatch(
      { batch: batchOf([latestRow(10, 202412, { event: 7, digest: 'rewritten' })]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual(['insert latest 10', 'chain '])
    expect(letters).toEqual([])
    expect(written).toMatchObject({ conflicts: 0, replays: 0, insertedLatest: 1 })
  })

  it('chains a temporal level 1 event audit_events already holds, and writes it to the latest-state table', async () => {
    // Written to audit_events by a sink from before the split, read again before its commit.
    const { writer, calls } = recordingWriter()
    await writeBatch(
      { batch: batchOf([row(0, 202412, { eventStored: true, target: 'latest' })]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual([
      'look up 1',
      'insert latest 0',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 0',
    ])
  })

  it('dead-letters a temporal level 1 row ClickHouse refused, with the reason, and writes the rest', async () => {
    const { writer, calls, letters } = recordingWriter()
    writer.insertLatest = (rows) => {
      calls.push(`insert latest ${rows.map((r) => r.record.offset).join(',')}`)
      if (rows.some((r) => r.record.offset === '2')) {
        return Promise.reject(
          new ClickHouseError({ message: 'Cannot parse UUID', code: '376', type: 'CANNOT_PARSE_UUID' }),
        )
      }
      return Promise.resolve()
    }
    const written = await writeBatch(
      { batch: batchOf([row(0, 202412), latestRow(1, 202412), latestRow(2, 202412)]), reason: 'age' },
      writer,
    )
    expect(calls).toEqual([
      'look up 1',
      'insert 0',
      'insert latest 1,2',
      'insert latest 1',
      'insert latest 2',
      `failpoint ${sinkFailpoints.beforeChain}`,
      'chain 0',
      `failpoint ${sinkFailpoints.beforeDeadLetters}`,
      'dead letters 1',
    ])
    expect(letters).toEqual([{ errorClass: rowRejected, message: 'Cannot parse UUID' }])
    expect(written).toMatchObject({ inserted: 1, insertedLatest: 1, deadLetterClasses: [rowRejected] })
    expect(written.rejected.map((r) => r.row.record.offset)).toEqual(['2'])
  })

  it('is not written, so not committed, until the latest-state insert is done too', async () => {
    const { writer, calls } = recordingWriter()
    // ClickHouse unavailable for that table (or a grant missing), until stop's deadline aborts
    // the retries: the batch fails before its chain entries and dead letters, and the runtime
    // reads its records again from the last commit.
    const stop = new AbortController()
    writer.write = { ...writer.write, signal: stop.signal, onRetry: () => stop.abort() }
    writer.insertLatest = (rows) => {
      calls.push(`insert latest ${rows.map((r) => r.record.offset).join(',')}`)
      return Promise.reject(new Error('ClickHouse unavailable'))
    }
    await expect(
      writeBatch({ batch: batchOf([row(0, 202412), latestRow(1, 202412)], [2]), reason: 'age' }, writer),
    ).rejects.toThrow('ClickHouse unavailable')
    expect(calls).toEqual(['look up 1', 'insert 0', 'insert latest 1'])
  })
})
