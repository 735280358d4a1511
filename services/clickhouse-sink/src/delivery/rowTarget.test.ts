import type { IHeaders } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { rowTargetOf, splitByTarget, temporalLevelHeader, type RowTarget } from './rowTarget.js'

describe('rowTargetOf', () => {
  it('sends a record marked temporal level 1 to the latest-state table, as the consumer reads the header', () => {
    expect(rowTargetOf({ [temporalLevelHeader]: Buffer.from('1') }, undefined)).toBe('latest')
    expect(rowTargetOf({ [temporalLevelHeader]: '1' }, undefined)).toBe('latest')
  })

  it('keeps the full history of a record without the header, and beside unrelated headers', () => {
    expect(rowTargetOf({}, undefined)).toBe('trail')
    expect(rowTargetOf({ 'audit-other': Buffer.from('1') }, undefined)).toBe('trail')
  })

  it.each<[string, IHeaders]>([
    ['another level', { [temporalLevelHeader]: Buffer.from('2') }],
    ['a padded value', { [temporalLevelHeader]: Buffer.from(' 1') }],
    ['an empty value', { [temporalLevelHeader]: Buffer.from('') }],
    ['the header twice', { [temporalLevelHeader]: [Buffer.from('1'), Buffer.from('1')] }],
  ])('keeps the full history for %s: only an exact 1 gives it up', (_what, headers) => {
    expect(rowTargetOf(headers, undefined)).toBe('trail')
  })

  it('always chains alerts and access records, whatever their headers say', () => {
    const headers = { [temporalLevelHeader]: Buffer.from('1') }
    expect(rowTargetOf(headers, 'alert')).toBe('trail')
    expect(rowTargetOf(headers, 'access-record')).toBe('trail')
  })
})

describe('splitByTarget', () => {
  const rowsOf = (targets: RowTarget[], storedAt: number[] = []) =>
    targets.map((target, n) => ({ n, target, eventStored: storedAt.includes(n) }))

  it('splits rows by target, keeping batch order in each', () => {
    const split = splitByTarget(rowsOf(['trail', 'latest', 'latest', 'trail', 'latest']))
    expect(split.trail.map((row) => row.n)).toEqual([0, 3])
    expect(split.latest.map((row) => row.n)).toEqual([1, 2, 4])
    expect(splitByTarget([])).toEqual({ trail: [], latest: [] })
  })

  it('keeps a latest row that audit_events already holds in the trail too, so that it is chained', () => {
    // Written to audit_events by a sink from before the split, read again before its commit.
    const split = splitByTarget(rowsOf(['latest', 'trail', 'latest'], [0, 1]))
    expect(split.trail.map((row) => row.n)).toEqual([0, 1])
    expect(split.latest.map((row) => row.n)).toEqual([0, 2])
  })
})
