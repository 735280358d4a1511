import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { addToBatch, emptyBatch, itemBytes, type SinkItem } from './sinkBatch.js'

const record = (offset: number): KafkaRecord => ({
  topic: 't',
  partition: 0,
  offset: String(offset),
  key: Buffer.from('k'),
  value: Buffer.from('value'),
  headers: {},
  timestamp: '0',
})

describe('addToBatch', () => {
  it('keeps rows and failures apart, counts stored records, and starts the clock at the first record', () => {
    const items: SinkItem[] = [
      {
        kind: 'row',
        row: {
          line: Buffer.from('{"a":1}\n'),
          eventId: 'e1',
          partition: 202412,
          record: record(0),
          identity: { tenant: 't', eventId: 'e1', digest: 'd', occurredAtMs: 0, category: 'business' },
          eventStored: false,
          target: 'trail',
        },
      },
      { kind: 'stored' },
      {
        kind: 'failed',
        failed: { record: record(2), failure: { errorClass: 'EVENT_UNDECODABLE', message: 'no magic byte' } },
      },
    ]
    let batch = emptyBatch()
    for (const [i, item] of items.entries()) batch = addToBatch(batch, item, 100 + i)
    expect(batch).toMatchObject({ records: 3, alreadyStored: 1, startedAtMs: 100 })
    expect(batch.rows.map((r) => r.eventId)).toEqual(['e1'])
    expect(batch.failed.map((f) => f.record.offset)).toEqual(['2'])
    expect(items.map(itemBytes)).toEqual([8, 0, 1 + 5 + 1_024])
  })
})
