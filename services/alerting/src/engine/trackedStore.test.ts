import { describe, expect, it } from 'vitest'
import { maxStateEntryBytes, StateNotWritableError } from './stateEntryText.js'
import { TrackedStore } from './trackedStore.js'

const nested = (levels: number): object => {
  let value: unknown[] = []
  for (let level = 1; level < levels; level++) value = [value]
  return value
}

describe('TrackedStore', () => {
  it('hands over sealed changes as JSON text, removals and evictions as tombstones', () => {
    const store = new TrackedStore<{ n: number }>('rule:a:1', 2)
    store.set('x', { n: 1 })
    store.set('y', { n: 2 })
    store.seal()
    store.set('z', { n: 3 }) // evicts x
    store.delete('y')
    store.seal()
    expect(store.drainChanges()).toEqual([
      { key: 'rule:a:1\u0000x', value: null },
      { key: 'rule:a:1\u0000y', value: null },
      { key: 'rule:a:1\u0000z', value: '{"n":3}' },
    ])
    expect(store.drainChanges()).toEqual([])
    expect(store.evicted).toBe(1)
  })

  it('seals the text of the moment: a later change is sealed again, not the earlier text', () => {
    const store = new TrackedStore<{ n: number }>('s', 10)
    const entry = { n: 1 }
    store.set('x', entry)
    store.seal()
    entry.n = 2
    store.set('x', entry)
    store.seal()
    expect(store.drainChanges()).toEqual([{ key: 's\u0000x', value: '{"n":2}' }])
  })

  it('an entry that cannot be written fails the seal whole, and forgetting drops what changed since', () => {
    const store = new TrackedStore<object>('entity', 10)
    store.set('kept', { ok: true })
    store.seal()
    store.set('fine', { ok: true })
    store.set('deep', { value: nested(20_000) })
    expect(() => store.seal()).toThrow(StateNotWritableError)
    expect(() => store.seal()).toThrow(/the state entry in entity cannot be written: RangeError/)
    expect(store.forgetUnsealed()).toBe(2)
    expect([...store.keys()]).toEqual(['kept'])
    expect(store.drainChanges()).toEqual([
      { key: 'entity\u0000kept', value: '{"ok":true}' },
      { key: 'entity\u0000fine', value: null },
      { key: 'entity\u0000deep', value: null },
    ])
  })

  it('refuses what JSON cannot hold, and an entry over the changelog’s size bound', () => {
    const store = new TrackedStore<object>('s', 10)
    store.set('big', { n: 1n })
    expect(() => store.seal()).toThrow(/TypeError/)
    store.forgetUnsealed()
    store.set('large', { text: 'é'.repeat(maxStateEntryBytes / 2) })
    expect(() => store.seal()).toThrow(/takes 524299 bytes, over the 524288 a changelog entry may/)
    store.forgetUnsealed()
    store.set('almost', { text: 'x'.repeat(maxStateEntryBytes - 100) })
    expect(() => store.seal()).not.toThrow()
  })

  it('restoring is not a change', () => {
    const store = new TrackedStore<{ n: number }>('s', 10)
    store.restore('x', { n: 1 })
    expect(store.hasUnsealed).toBe(false)
    store.seal()
    expect(store.drainChanges()).toEqual([])
  })
})
