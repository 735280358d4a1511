import { describe, expect, it } from 'vitest'
import { cutBatches, type BatchItem } from './cutBatches.js'

const send = (offset: number, bytes = 10): BatchItem => ({ kind: 'send', offset: String(offset), bytes })
const skip = (offset: number): BatchItem => ({ kind: 'skip', offset: String(offset) })

describe('cutBatches', () => {
  it('cuts by event count, each batch committing the offset after its last item', () => {
    const batches = cutBatches([send(5), send(6), send(7), send(8), send(9)], {
      maxEvents: 2,
      maxBytes: 1_000,
    })
    expect(batches.map((b) => [b.items.map((i) => i.offset), b.commitOffset])).toEqual([
      [['5', '6'], '7'],
      [['7', '8'], '9'],
      [['9'], '10'],
    ])
  })

  it('cuts by bytes, and sends an event larger than the limit alone', () => {
    const batches = cutBatches([send(0, 40), send(1, 40), send(2, 500), send(3, 10)], {
      maxEvents: 100,
      maxBytes: 100,
    })
    expect(batches.map((b) => b.items.map((i) => i.offset))).toEqual([['0', '1'], ['2'], ['3']])
    expect(batches.map((b) => b.bytes)).toEqual([80, 500, 10])
  })

  it('carries skipped items in the batch they fall in, so commits cover them', () => {
    const batches = cutBatches([skip(0), send(1), skip(2), send(3), skip(4), skip(5)], {
      maxEvents: 1,
      maxBytes: 1_000,
    })
    expect(batches.map((b) => [b.items.map((i) => i.offset), b.sends, b.commitOffset])).toEqual([
      [['0', '1', '2'], 1, '3'],
      [['3', '4', '5'], 1, '6'],
    ])
  })

  it('makes one batch with no sends when nothing is wanted, so its offsets are committed too', () => {
    expect(cutBatches([skip(41), skip(42)], { maxEvents: 10, maxBytes: 10 })).toEqual([
      { items: [skip(41), skip(42)], sends: 0, bytes: 0, commitOffset: '43' },
    ])
    expect(cutBatches([], { maxEvents: 10, maxBytes: 10 })).toEqual([])
  })
})
