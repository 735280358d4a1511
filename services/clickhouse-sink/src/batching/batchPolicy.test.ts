import { describe, expect, it } from 'vitest'
import { flushReason } from './batchPolicy.js'

const policy = { maxRows: 100, maxBytes: 10_000, maxAgeMs: 1_000 }

describe('flushReason', () => {
  it('never closes an empty batch, however old', () => {
    expect(flushReason({ rows: 0, bytes: 0, ageMs: 60_000 }, policy)).toBeUndefined()
  })

  it('keeps filling below every limit', () => {
    expect(flushReason({ rows: 99, bytes: 9_999, ageMs: 999 }, policy)).toBeUndefined()
  })

  it('closes on whichever limit is reached, rows before bytes before age', () => {
    expect(flushReason({ rows: 100, bytes: 0, ageMs: 0 }, policy)).toBe('rows')
    expect(flushReason({ rows: 1, bytes: 10_000, ageMs: 0 }, policy)).toBe('bytes')
    expect(flushReason({ rows: 1, bytes: 1, ageMs: 1_000 }, policy)).toBe('age')
    expect(flushReason({ rows: 100, bytes: 10_000, ageMs: 1_000 }, policy)).toBe('rows')
  })
})
