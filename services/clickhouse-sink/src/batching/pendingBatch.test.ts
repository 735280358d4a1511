import { describe, expect, it } from 'vitest'
import { createPendingBatch, deduplicationToken, type BatchRow } from './pendingBatch.js'

const row = (topic: string, partition: number, offset: number): BatchRow<{ id: number }> => ({
  row: { id: offset },
  bytes: 10,
  topic,
  partition,
  offset: BigInt(offset),
  message: { key: null, value: Buffer.from('x'), timestamp: '0' },
})

describe('createPendingBatch', () => {
  it('commits the offset after the last message taken from each partition, rows or not', () => {
    const batch = createPendingBatch<{ id: number }>()
    batch.add(row('t', 0, 5), 100)
    batch.add(row('t', 1, 9), 101)
    batch.add(row('t', 0, 6), 102)
    batch.advance('t', 0, 7n, 103) // a dead-lettered message
    batch.advance('u', 2, 40n, 104) // a partition with no row at all
    expect(batch.commitOffsets()).toEqual([
      { topic: 't', partition: 0, offset: '8' },
      { topic: 't', partition: 1, offset: '10' },
      { topic: 'u', partition: 2, offset: '41' },
    ])
    expect(batch.rows.map((r) => r.row.id)).toEqual([5, 9, 6])
    expect(batch.bytes).toBe(30)
    expect(batch.startedAtMs).toBe(100)
    expect(batch.lastOffset('t', 0)).toBe(7n)
    expect(batch.lastOffset('t', 3)).toBeUndefined()
  })

  it('refuses an offset that is not after the partition’s last one (a re-read must be skipped first)', () => {
    const batch = createPendingBatch<{ id: number }>()
    batch.add(row('t', 0, 5), 0)
    expect(() => batch.add(row('t', 0, 5), 0)).toThrow(/not after 5/)
    expect(() => batch.advance('t', 0, 3n, 0)).toThrow(/not after 5/)
  })

  it('starts empty, with nothing to commit', () => {
    const batch = createPendingBatch()
    expect([batch.rows.length, batch.bytes, batch.startedAtMs, batch.commitOffsets()]).toEqual([
      0,
      0,
      undefined,
      [],
    ])
  })
})

describe('deduplicationToken', () => {
  const ranges = [
    { topic: 'b', partition: 1, first: 10n, last: 20n },
    { topic: 'a', partition: 2, first: 0n, last: 5n },
  ]

  it('is the same for the same ranges in any order, and differs when any range differs', () => {
    const token = deduplicationToken(ranges)
    expect(token).toMatch(/^audit-sink-[0-9a-f]{64}$/)
    expect(deduplicationToken([...ranges].reverse())).toBe(token)
    expect(deduplicationToken([{ ...ranges[0]!, last: 21n }, ranges[1]!])).not.toBe(token)
    expect(deduplicationToken([ranges[0]!])).not.toBe(token)
  })

  it('gives each sub-batch of a split its own token', () => {
    expect(deduplicationToken(ranges, ['b/1/10'])).not.toBe(deduplicationToken(ranges, ['b/1/11']))
    expect(deduplicationToken(ranges, ['b/1/10'])).not.toBe(deduplicationToken(ranges))
  })
})
