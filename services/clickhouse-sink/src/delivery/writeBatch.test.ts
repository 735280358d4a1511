import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { ClickHouseError } from '@clickhouse/client'
import { emptyBatch, type BatchRow, type SinkBatch } from '../batching/sinkBatch.js'
import { eventKeyOf, type EventIdentity } from '../integrity/eventIdentity.js'
import { eventIdConflict, sinkFailpoints, writeBatch, type BatchWriter } from './writeBatch.js'

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
  extra: { event?: number; digest?: string; eventStored?: boolean } = {},
): BatchRow => ({
  line: `{"offset":${offset}}\n`,
  eventId: identity(extra.event ?? offset).eventId,
  partition,
  record: record(offset),
  identity: identity(extra.event ?? offset, extra.digest),
  eventStored: extra.eventStored ?? false,
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
})
