import { describe, expect, it } from 'vitest'
import { checkDelivery, type ReadRecord } from './kafkaClientsDelivery.js'

/** Records as one idempotent producer writes them: `keys` keys, key k on partition k % 2. */
function written(count: number, keys = 2): ReadRecord[] {
  const offsets = [0n, 0n]
  return Array.from({ length: count }, (_, sequence) => {
    const partition = (sequence % keys) % 2
    const offset = offsets[partition] ?? 0n
    offsets[partition] = offset + 1n
    return {
      partition,
      offset,
      key: `k${sequence % keys}`,
      sequence,
      producerId: '7',
      producerEpoch: 0,
      producerSequence: Number(offset),
    }
  })
}

describe('checkDelivery', () => {
  it('passes every record once, in key order, from one idempotent producer', () => {
    const check = checkDelivery({ expected: 6, records: written(6) })
    expect(check).toEqual({
      passed: true,
      problems: [],
      checked:
        '6 read of 6 sent; 2 keys each on one partition, in order; written by 1 idempotent producer id, sequences without gaps',
    })
  })

  it('names missing and duplicated records, and who wrote the copies', () => {
    const records = written(6).filter((record) => record.sequence !== 3)
    const copy = { ...records[0]!, offset: 10n, producerId: '8', producerSequence: 0 }
    const check = checkDelivery({ expected: 6, records: [...records, copy] })
    expect(check.passed).toBe(false)
    expect(check.problems).toContain('1 missing (3)')
    expect(check.problems).toContain(
      '1 duplicated (0); the copies were written by producer id/epoch 7/0, 8/0',
    )
  })

  it('names records that were never sent', () => {
    const stray = { ...written(1)[0]!, offset: 1n, sequence: undefined, producerSequence: 1 }
    const check = checkDelivery({ expected: 1, records: [...written(1), stray] })
    expect(check.problems).toEqual(['1 records that were not sent (0@1)'])
  })

  it('catches a key on two partitions and a key out of order', () => {
    const records = written(4, 2)
    // Swap the values of the two records of key k0 (sequences 0 and 2, both on partition 0).
    const reordered = records.map((record) =>
      record.sequence === 0
        ? { ...record, sequence: 2 }
        : record.sequence === 2
          ? { ...record, sequence: 0 }
          : record,
    )
    expect(checkDelivery({ expected: 4, records: reordered }).problems).toEqual([
      "1 records out of their key's order (k0: 2 before 0)",
    ])
    const moved = records.map((record) =>
      record.sequence === 3 ? { ...record, partition: 0, offset: 9n } : record,
    )
    expect(checkDelivery({ expected: 4, records: moved }).problems).toContain(
      '1 keys on more than one partition (k1)',
    )
  })

  it('fails records written without idempotence, and gaps in a producer’s sequence numbers', () => {
    const plain = written(2).map((record) => ({ ...record, producerId: '-1', producerSequence: -1 }))
    expect(checkDelivery({ expected: 2, records: plain }).problems).toEqual([
      '2 records written without idempotence (no producer id; 0@0, 1@0)',
    ])
    const gap = written(4).map((record) =>
      record.sequence === 2 ? { ...record, producerSequence: 5 } : record,
    )
    expect(checkDelivery({ expected: 4, records: gap }).problems).toEqual([
      "1 breaks in a producer's sequence numbers (partition 0 at 1: sequence 5, expected 1)",
    ])
  })

  it('compares committed offsets with end offsets when given', () => {
    const ends = new Map([
      [0, 3n],
      [1, 3n],
    ])
    const ok = checkDelivery({
      expected: 6,
      records: written(6),
      offsets: { committed: new Map(ends), ends },
    })
    expect(ok.passed).toBe(true)
    expect(ok.checked).toMatch(/committed offsets = end offsets$/)
    const behind = checkDelivery({
      expected: 6,
      records: written(6),
      offsets: { committed: new Map([[0, 3n]]), ends },
    })
    expect(behind.problems).toEqual([
      'committed offsets are not the end offsets (partition 1: committed nothing, end 3)',
    ])
  })
})

describe('checkDelivery with failed sends', () => {
  it('lets records of a send the client reported as failed be missing, but not duplicated', () => {
    const records = written(6).filter((record) => record.sequence !== 4 && record.sequence !== 5)
    const rejected = new Set([4, 5])
    const check = checkDelivery({ expected: 6, records, rejected })
    expect(check.passed).toBe(true)
    expect(check.checked).toMatch(/^4 read of 6 sent \(2 in failed sends, 2 of them not written\);/)
    const twice = [...records, { ...records[0]!, offset: 7n, producerId: '9', producerSequence: 0 }]
    expect(checkDelivery({ expected: 6, records: twice, rejected }).passed).toBe(false)
  })
})
