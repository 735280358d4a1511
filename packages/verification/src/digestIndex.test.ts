import { describe, expect, it } from 'vitest'
import { DigestIndex } from './digestIndex.js'

const a = 'a'.repeat(64)
const b = 'b'.repeat(64)

describe('DigestIndex', () => {
  it('holds one digest per event, copies with the same digest once, and every different digest', () => {
    const index = new DigestIndex()
    index.add('0190-1', a)
    index.add('0190-1', a)
    index.add('f190-2', a)
    index.add('f190-2', b)
    index.add('f190-2', a)
    expect(index.size).toBe(2)
    expect(index.claim('0190-1')).toEqual([a])
    expect(index.claim('f190-2')).toEqual([a, b])
    expect(index.claim('ffff-3')).toBeUndefined()
  })

  it('tells claimed events from unclaimed ones; a claimed event can be claimed again', () => {
    const index = new DigestIndex()
    for (const id of ['1', '2', '3']) index.add(id, a)
    index.add('3', b)
    expect(index.claim('1')).toEqual([a])
    expect(index.claim('1')).toEqual([a])
    index.release('2')
    expect([...index.unclaimed()]).toEqual([['3', [a, b]]])
    // A different copy stored after the claim is still kept, the event still claimed.
    index.add('1', b)
    expect(index.claim('1')).toEqual([a, b])
    expect([...index.unclaimed()].map(([id]) => id)).toEqual(['3'])
  })
})
