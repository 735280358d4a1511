import { describe, expect, it } from 'vitest'
import { createDedupWindow, eventKeyOf } from './dedupWindow.js'

const sent = (...ids: string[]) => ids.map((id) => ({ key: eventKeyOf('t1', id), digest: `digest-of-${id}` }))
const key = (id: string, tenant = 't1') => eventKeyOf(tenant, id)

describe('createDedupWindow', () => {
  it('knows an event’s digest from when it is remembered until the window has passed', () => {
    let nowMs = 1_000
    const window = createDedupWindow({ windowMs: 60_000, maxIds: 10, now: () => nowMs })
    expect(window.digestOf(key('a'))).toBeUndefined()
    window.remember(sent('a'))
    nowMs += 59_999
    expect(window.digestOf(key('a'))).toBe('digest-of-a')
    nowMs += 2
    expect(window.digestOf(key('a'))).toBeUndefined()
  })

  it('keys events by tenant and id: another tenant’s event with the same id is another event', () => {
    const window = createDedupWindow({ windowMs: 60_000, maxIds: 10, now: () => 1_000 })
    window.remember(sent('a'))
    expect(window.digestOf(key('a', 't2'))).toBeUndefined()
  })

  it('does not extend an event’s window when a duplicate is seen', () => {
    // (Not from 0: lru-cache reads a start time of 0 as "no expiry"; performance.now() is never 0.)
    let nowMs = 5_000
    const window = createDedupWindow({ windowMs: 1_000, maxIds: 10, now: () => nowMs })
    window.remember(sent('a'))
    nowMs = 5_900
    expect(window.digestOf(key('a'))).toBe('digest-of-a')
    nowMs = 6_001
    expect(window.digestOf(key('a'))).toBeUndefined()
  })

  it('forgets the oldest events beyond maxIds', () => {
    const window = createDedupWindow({ windowMs: 60_000, maxIds: 3, now: () => 0 })
    window.remember(sent('a', 'b', 'c', 'd'))
    expect(window.size).toBe(3)
    expect(['a', 'b', 'c', 'd'].map((id) => window.digestOf(key(id)) !== undefined)).toEqual([
      false,
      true,
      true,
      true,
    ])
  })
})
