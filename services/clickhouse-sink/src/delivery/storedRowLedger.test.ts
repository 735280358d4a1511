import { describe, expect, it } from 'vitest'
import { createStoredRowLedger, isStored } from './storedRowLedger.js'

const a = 'aaaaaaaa-0000-4000-8000-000000000000'
const b = 'bbbbbbbb-0000-4000-8000-000000000000'
const c = 'cccccccc-0000-4000-8000-000000000000'
const d = 'dddddddd-0000-4000-8000-000000000000'

/** Decides offsets from `from` on, one event id each, as the skip step would. */
const decideAll = (
  ledger: ReturnType<typeof createStoredRowLedger>,
  from: number,
  eventIds: (string | undefined)[],
) => eventIds.map((eventId, i) => ledger.decide('t', 0, BigInt(from + i), eventId))

describe('isStored', () => {
  it('needs the offset and the event id to match, in any letter case', () => {
    const known = new Map([[5n, new Set([a])]])
    expect(isStored(known, 5n, a)).toBe(true)
    expect(isStored(known, 5n, a.toUpperCase())).toBe(true)
    expect(isStored(known, 5n, b)).toBe(false)
    expect(isStored(known, 6n, a)).toBe(false)
  })
})

describe('createStoredRowLedger', () => {
  it('asks for a look-up at a partition’s first record and at any jump, not while reading on', () => {
    const ledger = createStoredRowLedger()
    expect(ledger.needsLookup('t', 0, 10n)).toBe(true)
    ledger.learn('t', 0, [])
    ledger.decide('t', 0, 10n, a)
    expect(ledger.needsLookup('t', 0, 11n)).toBe(false)
    expect(ledger.needsLookup('t', 1, 11n)).toBe(true)
    // Read again from an older commit (a rebalance), or from 0 (a topic recreated), or past a gap.
    expect(ledger.needsLookup('t', 0, 3n)).toBe(true)
    expect(ledger.needsLookup('t', 0, 0n)).toBe(true)
    expect(ledger.needsLookup('t', 0, 40n)).toBe(true)
  })

  it('finds the rows of a batch written before a crash (chained, not inserted again), and writes the ones ClickHouse refused', () => {
    // Offsets 0..3 were inserted, but offset 2's row was refused and its dead letter not sent yet.
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [
      { offset: 0n, eventId: a },
      { offset: 1n, eventId: b },
      { offset: 3n, eventId: d },
    ])
    expect(decideAll(ledger, 0, [a, b, c, d])).toEqual(['stored', 'stored', 'write', 'stored'])
  })

  it('writes the rows of a batch split in two parts (one per month) whose second part never landed', () => {
    // The part holding the highest offset landed; the other month's rows, below it, did not.
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [
      { offset: 1n, eventId: b },
      { offset: 3n, eventId: d },
    ])
    expect(decideAll(ledger, 0, [a, b, c, d])).toEqual(['write', 'stored', 'write', 'stored'])
  })

  it('writes a recreated topic’s new events at the old topic’s offsets', () => {
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [
      { offset: 0n, eventId: a },
      { offset: 1n, eventId: b },
    ])
    expect(decideAll(ledger, 0, [c, d])).toEqual(['write', 'write'])
  })

  it('never skips a record that gave no row', () => {
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [{ offset: 0n, eventId: a }])
    expect(decideAll(ledger, 0, [undefined])).toEqual(['write'])
  })

  it('skips records read again before their commit, which this generation took already', () => {
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [])
    expect(decideAll(ledger, 0, [a, b, c])).toEqual(['write', 'write', 'write'])
    // A rebalance: kafkajs reads again from the last commit (0); nothing was stored yet.
    expect(ledger.needsLookup('t', 0, 0n)).toBe(true)
    ledger.learn('t', 0, [])
    expect(decideAll(ledger, 0, [a, b, c, d])).toEqual(['taken', 'taken', 'taken', 'write'])
  })

  it('forgets rows once their offsets are committed, and what reading passed', () => {
    const ledger = createStoredRowLedger()
    ledger.learn('t', 0, [
      { offset: 0n, eventId: a },
      { offset: 5n, eventId: d },
    ])
    decideAll(ledger, 0, [a, b, c])
    // Taken: 0 (stored: taken to be chained), 1, 2; stored and not yet read: 5.
    expect(ledger.size).toBe(4)
    ledger.committed('t', 0, 2n)
    expect(ledger.size).toBe(2)
    ledger.committed('t', 0, 6n)
    expect(ledger.size).toBe(0)
  })
})
