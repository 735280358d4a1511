import { describe, expect, it } from 'vitest'
import { closeReason } from './batchPolicy.js'

const policy = { maxRows: 100, maxBytes: 10_000, maxAgeMs: 1_000 }

describe('closeReason', () => {
  it('names the limit the batch reached, count before age', () => {
    expect(closeReason({ records: 100, ageMs: 5_000, stopping: false }, policy)).toBe('rows')
    expect(closeReason({ records: 3, ageMs: 1_000, stopping: true }, policy)).toBe('age')
  })

  it('says shutdown for a batch closed young by stop, bytes otherwise', () => {
    expect(closeReason({ records: 3, ageMs: 10, stopping: true }, policy)).toBe('shutdown')
    expect(closeReason({ records: 3, ageMs: 10, stopping: false }, policy)).toBe('bytes')
  })
})
