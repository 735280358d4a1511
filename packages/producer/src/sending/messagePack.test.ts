import { describe, expect, it } from 'vitest'
import { packOutgoing, unpackOutgoing } from './messagePack.js'
import type { Outgoing } from './outgoing.js'

describe('packed batches', () => {
  it('come back as the same events, in order, whatever their keys and values hold', () => {
    const batch: Outgoing[] = [
      { key: 'witify\u0001ticket\u00019548-B1', value: Buffer.from([0, 0, 0, 0, 7, 1, 2]), eventId: 'e-1' },
      { key: 'tenant-é/客户/😀', value: Buffer.alloc(0), eventId: '0f8fad5b-d9cb-469f-a165-70867728950e' },
      { key: '', value: Buffer.alloc(70_000, 0xab), eventId: '' },
    ]
    const unpacked = unpackOutgoing(packOutgoing(batch))
    expect(unpacked.map(({ key, eventId }) => ({ key, eventId }))).toEqual(
      batch.map(({ key, eventId }) => ({ key, eventId })),
    )
    expect(unpacked.map(({ value }) => value.toString('hex'))).toEqual(
      batch.map(({ value }) => value.toString('hex')),
    )
  })

  it('of no events are empty', () => {
    expect(packOutgoing([]).byteLength).toBe(0)
    expect(unpackOutgoing(new ArrayBuffer(0))).toEqual([])
  })

  it('cut short are refused, not read past their end', () => {
    const packed = packOutgoing([{ key: 'k', value: Buffer.from('value'), eventId: 'id' }])
    for (const length of [3, 6, 10, packed.byteLength - 1]) {
      expect(() => unpackOutgoing(packed.slice(0, length))).toThrow(/packed batch cut short at byte \d+/)
    }
  })
})
