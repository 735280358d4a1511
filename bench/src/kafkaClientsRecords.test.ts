import { describe, expect, it } from 'vitest'
import { benchKey, benchRecords, eventValueBytes, sendChunks, sequenceOf } from './kafkaClientsRecords.js'

describe('benchRecords', () => {
  it('makes values of the event size carrying their sequence number, keyed by ticket', () => {
    const records = benchRecords(5, 8, { objects: 2 })
    expect(records.map((record) => record.value.length)).toEqual([
      eventValueBytes,
      eventValueBytes,
      eventValueBytes,
    ])
    expect(records.map((record) => sequenceOf(record.value))).toEqual([5, 6, 7])
    expect(records.map((record) => record.key.toString())).toEqual([
      'bench/ticket/T-1',
      'bench/ticket/T-0',
      'bench/ticket/T-1',
    ])
  })

  it('is deterministic, so parent and child processes build the same records', () => {
    expect(benchRecords(0, 3)).toEqual(benchRecords(0, 3))
    expect(benchRecords(1, 2)[0]).toEqual(benchRecords(0, 2)[1])
    expect(benchKey(10_003)).toEqual(benchKey(3))
  })

  it('fills the rest of the value with bytes that do not compress to nothing', () => {
    const [record] = benchRecords(0, 1)
    expect(new Set(record?.value.subarray(4)).size).toBeGreaterThan(100)
  })

  it('refuses a value too short for its sequence number', () => {
    expect(() => benchRecords(0, 1, { valueBytes: 3 })).toThrow(/4-byte sequence number/)
  })
})

describe('sequenceOf', () => {
  it('reads nothing from a missing or short value', () => {
    expect(sequenceOf(null)).toBeUndefined()
    expect(sequenceOf(Buffer.from([1, 2]))).toBeUndefined()
  })
})

describe('sendChunks', () => {
  const record = (bytes: number) => ({ key: Buffer.alloc(8), value: Buffer.alloc(bytes) })

  it('keeps each send under the byte bound, in order', () => {
    const records = [record(60), record(60), record(60), record(60)]
    // 8 + 60 + 32 = 100 bytes each: two fit in 250.
    const chunks = sendChunks(records, 250)
    expect(chunks.map((chunk) => chunk.length)).toEqual([2, 2])
    expect(chunks.flat()).toEqual(records)
  })

  it('sends a record larger than the bound on its own rather than dropping it', () => {
    expect(sendChunks([record(500), record(10)], 100).map((chunk) => chunk.length)).toEqual([1, 1])
  })

  it('makes no send of nothing', () => {
    expect(sendChunks([], 100)).toEqual([])
  })
})
