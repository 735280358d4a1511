import { describe, expect, it } from 'vitest'
import { hasFilter, matchesFilter } from './deadLetterFilter.js'
import type { DeadLetter } from './deadLetterRecord.js'

const dead: DeadLetter = {
  dlq: { topic: 'audit.dlq', partition: 0, offset: '0' },
  errorClass: 'EVENT_INVALID',
  message: 'm',
  source: { topic: 'audit.events', partition: 0, offset: '0', timestamp: '0' },
  failedAt: new Date('2026-03-01T10:00:00Z'),
  service: 'normalizer',
  key: null,
  value: null,
  originalHeaders: {},
}

describe('matchesFilter', () => {
  it('matches when every given field matches', () => {
    expect(matchesFilter(dead, undefined)).toBe(true)
    expect(matchesFilter(dead, {})).toBe(true)
    expect(
      matchesFilter(dead, {
        errorClass: 'EVENT_INVALID',
        sourceTopic: 'audit.events',
        service: 'normalizer',
        failedSince: new Date('2026-03-01T10:00:00Z'),
      }),
    ).toBe(true)
  })

  it('rejects when any given field differs', () => {
    expect(matchesFilter(dead, { errorClass: 'EVENT_TOO_LARGE' })).toBe(false)
    expect(matchesFilter(dead, { errorClass: 'EVENT_INVALID', sourceTopic: 'other' })).toBe(false)
    expect(matchesFilter(dead, { service: 'clickhouse-sink' })).toBe(false)
    expect(matchesFilter(dead, { failedSince: new Date('2026-03-01T10:00:00.001Z') })).toBe(false)
  })
})

describe('hasFilter', () => {
  it('is false for no filter or an empty one', () => {
    expect([hasFilter(undefined), hasFilter({}), hasFilter({ service: 'normalizer' })]).toEqual([
      false,
      false,
      true,
    ])
  })
})
