import { describe, expect, it } from 'vitest'
import { chunksOfBytes, recordBytes } from './chunksOfBytes.js'

describe('chunksOfBytes', () => {
  it('keeps each run under the limit, a larger message alone, nothing lost or reordered', () => {
    const message = (bytes: number, key: string) => ({ key, value: Buffer.alloc(bytes) })
    const chunks = chunksOfBytes(
      [message(300, 'a'), message(300, 'b'), message(900, 'c'), message(100, 'd')],
      700,
    )
    expect(chunks.map((chunk) => chunk.map((m) => m.key))).toEqual([['a', 'b'], ['c'], ['d']])
    expect(chunksOfBytes([], 10)).toEqual([])
  })
})

describe('recordBytes', () => {
  it('counts key, value and headers, a tombstone as an empty value', () => {
    expect(recordBytes({ key: 'k', value: null })).toBe(recordBytes({ key: 'k', value: '' }))
    expect(recordBytes({ key: 'k', value: 'v', headers: { h: 'abc' } })).toBe(
      recordBytes({ key: 'k', value: 'v' }) + 4,
    )
    expect(chunksOfBytes([{ value: 'x' }, { value: 'y' }], recordBytes({ value: 'x' }), recordBytes)).toEqual(
      [[{ value: 'x' }], [{ value: 'y' }]],
    )
  })
})
