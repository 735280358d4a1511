import { describe, expect, it } from 'vitest'
import { createDedupWindow } from './dedupWindow.js'

describe('createDedupWindow', () => {
  it('knows an id from when it is remembered until the window has passed', () => {
    let nowMs = 1_000
    const window = createDedupWindow({ windowMs: 60_000, maxIds: 10, now: () => nowMs })
    expect(window.has('a')).toBe(false)
    window.remember(['a'])
    nowMs += 59_999
    expect(window.has('a')).toBe(true)
    nowMs += 2
    expect(window.has('a')).toBe(false)
  })

  it('does not extend an id’s window when a duplicate is seen', () => {
    // (Not from 0: lru-cache reads a start time of 0 as "no expiry"; performance.now() is never 0.)
    let nowMs = 5_000
    const window = createDedupWindow({ windowMs: 1_000, maxIds: 10, now: () => nowMs })
    window.remember(['a'])
    nowMs = 5_900
    expect(window.has('a')).toBe(true)
    nowMs = 6_001
    expect(window.has('a')).toBe(false)
  })

  it('forgets the oldest ids beyond maxIds', () => {
    const window = createDedupWindow({ windowMs: 60_000, maxIds: 3, now: () => 0 })
    window.remember(['a', 'b', 'c', 'd'])
    expect(window.size).toBe(3)
    expect(['a', 'b', 'c', 'd'].map((id) => window.has(id))).toEqual([false, true, true, true])
  })
})
