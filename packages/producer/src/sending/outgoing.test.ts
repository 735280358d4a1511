import { describe, expect, it } from 'vitest'
import { laneOf } from './outgoing.js'

describe('lanes', () => {
  it('give one key the same lane every time, and spread many keys over all lanes', () => {
    const keys = Array.from({ length: 4_000 }, (_, i) => `witify\u0001ticket\u0001T-${i}`)
    for (const lanes of [2, 4, 7]) {
      const counts = new Array<number>(lanes).fill(0)
      for (const key of keys) {
        const lane = laneOf(key, lanes)
        expect(laneOf(key, lanes)).toBe(lane)
        counts[lane]!++
      }
      // Each lane within a quarter of its fair share.
      for (const count of counts)
        expect(Math.abs(count - keys.length / lanes)).toBeLessThan(keys.length / lanes / 4)
    }
  })

  it('are all lane 0 when there is one', () => {
    expect(['', 'a', 'witify\u0001ticket\u00011'].map((key) => laneOf(key, 1))).toEqual([0, 0, 0])
  })
})
