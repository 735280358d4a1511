import { describe, expect, it } from 'vitest'
import { createDeadLetterGuard } from './deadLetterGuard.js'
import { committableOf, mergeCommittable, nextOffset, type PartitionOffset } from './kafkaRecord.js'
import { isOutage, recordFailureOf } from './recordFailure.js'

describe('offsets', () => {
  it('commits the offset after the one processed, past 2^53 too', () => {
    expect(nextOffset('0')).toBe('1')
    expect(nextOffset('9007199254740993')).toBe('9007199254740994')
  })

  it('merges committables keeping the later offset per partition', () => {
    const into = new Map<string, PartitionOffset>()
    mergeCommittable(into, committableOf({ topic: 'a', partition: 0, offset: '9' }))
    mergeCommittable(into, committableOf({ topic: 'a', partition: 0, offset: '3' }))
    mergeCommittable(into, committableOf({ topic: 'a', partition: 1, offset: '0' }))
    expect([...into.values()]).toEqual([
      { topic: 'a', partition: 0, offset: '10' },
      { topic: 'a', partition: 1, offset: '1' },
    ])
  })
})

describe('recordFailureOf', () => {
  it('names any error as a code: RECORD_FAILED with its name as reason', () => {
    expect(recordFailureOf(new TypeError('x is undefined'))).toMatchObject({
      errorClass: 'RECORD_FAILED',
      reason: 'TYPE_ERROR',
    })
    expect(recordFailureOf('thrown text')).toMatchObject({ errorClass: 'RECORD_FAILED', reason: 'STRING' })
    class Weird extends Error {
      override name = '42 wéird-Name!'
    }
    expect(recordFailureOf(new Weird('m')).reason).toMatch(/^[A-Z][A-Z0-9_]*$/)
    expect(recordFailureOf(new Error('m'.repeat(5000))).message.length).toBeLessThanOrEqual(1000)
  })

  it('tells an outage from a record failure by the error own account', () => {
    expect(
      isOutage(Object.assign(new Error('down'), { code: 'REGISTRY_UNAVAILABLE', retriable: true })),
    ).toBe(true)
    expect(isOutage(Object.assign(new Error('bad'), { code: 'EVENT_INVALID', retriable: false }))).toBe(false)
    expect(isOutage(new Error('plain'))).toBe(false)
  })
})

describe('createDeadLetterGuard', () => {
  const settings = { maxShare: 0.5, minDeadLetters: 100, windowMs: 60_000 }

  it('trips when most of a window was dead-lettered, and not for a few bad records', () => {
    const guard = createDeadLetterGuard(settings)
    expect(guard.observe(1_000, 10, 0)).toBe('ok')
    expect(guard.observe(100, 99, 1_000)).toBe('ok')
    const draining = createDeadLetterGuard(settings)
    expect(draining.observe(150, 99, 0)).toBe('ok')
    expect(draining.observe(50, 50, 10)).toBe('tripped')
    expect(draining.window).toEqual({ records: 200, deadLettered: 149 })
  })

  it('starts a new window after windowMs', () => {
    const guard = createDeadLetterGuard(settings)
    expect(guard.observe(100, 90, 0)).toBe('ok')
    expect(guard.observe(20, 20, 60_000)).toBe('ok')
    expect(guard.window).toEqual({ records: 20, deadLettered: 20 })
  })
})
