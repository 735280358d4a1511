import { describe, expect, it } from 'vitest'
import { AtOnceGate } from './atOnceGate.js'

const standing = (partition: number, from: number, end: number) => ({
  partition,
  from: BigInt(from),
  end: BigInt(end),
})

describe('AtOnceGate', () => {
  it('holds every partition until the receiver’s consumer first joined, then opens those without a backlog', () => {
    const gate = new AtOnceGate()
    expect(gate.open(0, 100)).toBe(false)
    // Nothing left (from = end), or only the last transaction's commit marker (from = end - 1).
    gate.backlog([standing(0, 10, 10), standing(1, 9, 10)])
    expect(gate.open(0, 100)).toBe(true)
    expect(gate.open(1, 100)).toBe(true)
    expect(gate.held()).toEqual([])
  })

  it('holds a partition with a backlog until the record before its end marker is finished', () => {
    const gate = new AtOnceGate()
    gate.backlog([standing(0, 4, 10), standing(1, 10, 10)])
    expect(gate.held()).toEqual([0])
    gate.finished(0, 7n, 'a-7')
    expect(gate.open(0, 100)).toBe(false)
    // Offset 9 may be a transaction marker, which the consumer never sees: 8 ends the backlog.
    gate.finished(0, 8n, 'a-8')
    expect(gate.open(0, 100)).toBe(true)
    // Reaching a record says everything before it is finished: as good as finishing the one before.
    const reached = new AtOnceGate()
    reached.backlog([standing(2, 0, 5)])
    reached.reached(2, 3n)
    expect(reached.open(2, 100)).toBe(false)
    reached.reached(2, 4n)
    expect(reached.open(2, 100)).toBe(true)
  })

  it('a standing read after the consumer already passed its end holds nothing; later joins change nothing', () => {
    const gate = new AtOnceGate()
    gate.finished(0, 8n, undefined)
    gate.backlog([standing(0, 2, 10)])
    expect(gate.open(0, 100)).toBe(true)
    gate.backlog([standing(0, 0, 100)])
    expect(gate.open(0, 100)).toBe(true)
  })

  it('holds a partition after a declined alert until that alert is finished, or a later offered one is reached', () => {
    const gate = new AtOnceGate()
    gate.backlog([standing(0, 0, 0), standing(1, 0, 0)])
    gate.declined(0, 'x', 5)
    expect(gate.open(0, 100)).toBe(false)
    // Offered before x: ahead of it in the partition, it may go.
    expect(gate.open(0, 4)).toBe(true)
    expect(gate.open(1, 100)).toBe(true)
    // Another alert finished first (it was written before x): still held.
    gate.finished(0, 3n, 'w')
    gate.reached(0, 4n, 4)
    expect(gate.open(0, 100)).toBe(false)
    gate.finished(0, 4n, 'x')
    expect(gate.open(0, 100)).toBe(true)
    // x never written (its transaction failed and evaluating again raised another): an alert
    // offered after it, reached by the consumer, says x is not coming.
    gate.declined(0, 'y', 9)
    gate.reached(0, 12n, 10)
    expect(gate.open(0, 100)).toBe(true)
  })
})
