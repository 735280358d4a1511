import { describe, expect, it } from 'vitest'
import {
  cpuBreakdown,
  machineTicks,
  microsPerEventOf,
  processTicks,
  processWindows,
} from './cpuAccounting.js'

// A Kafka broker's line, read from /proc on the bench machine.
const brokerStat =
  '13862 (java) S 1 13862 13862 0 -1 4194304 83726 0 560 0 1180 963 0 0 20 0 92 0 2903733 4548014080 87592 18446744073709551615 94745167138816 94745167139701 140727820311936 0 0 0 0 0 16800975 0 0 0 17 0 0 0 0 0 0 94745167150400 94745167151128 94745411645440 140727820318877 140727820319229 140727820319229 140727820320746 0'

describe('processTicks', () => {
  it('adds utime and stime (fields 14 and 15)', () => {
    expect(processTicks(brokerStat)).toBe(1180 + 963)
  })

  it('counts fields from the last parenthesis, whatever the command name holds', () => {
    const odd = brokerStat.replace('(java)', '(a) b (c) d)')
    expect(processTicks(odd)).toBe(2143)
  })

  it('refuses what is not a stat line', () => {
    expect(() => processTicks('')).toThrow(/not a \/proc\/<pid>\/stat line/)
  })
})

describe('machineTicks', () => {
  it('reads the cpu line: idle and iowait idle, the rest busy', () => {
    const stat = 'cpu  2210161 15572 343032 3219761 9232 0 8270 1207 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n'
    expect(machineTicks(stat)).toEqual({
      busy: 2210161 + 15572 + 343032 + 0 + 8270 + 1207,
      idle: 3219761 + 9232,
    })
  })

  it('refuses a text without one', () => {
    expect(() => machineTicks('intr 1 2 3\n')).toThrow(/no cpu line/)
  })
})

describe('cpuBreakdown', () => {
  // 10 s on 2 CPUs at 100 ticks/s: 2,000 ticks, 1,500 busy.
  const window = {
    machineBefore: { busy: 10_000, idle: 5_000 },
    machineAfter: { busy: 11_500, idle: 5_500 },
    ticksPerSecond: 100,
    events: 100_000,
  }

  it('gives each process its CPU seconds, µs per event and share, then the rest of the machine and idle', () => {
    const rows = cpuBreakdown({
      ...window,
      processes: [
        { name: 'broker', pid: 10, before: 100, after: 700 },
        { name: 'normalizer', pid: 20, before: 0, after: 400 },
      ],
    })
    expect(rows).toEqual([
      { name: 'broker', pid: 10, cpuSeconds: 6, microsPerEvent: 60, share: 0.3 },
      { name: 'normalizer', pid: 20, cpuSeconds: 4, microsPerEvent: 40, share: 0.2 },
      { name: 'other processes (the rest of the machine)', cpuSeconds: 5, share: 0.25 },
      { name: 'idle', cpuSeconds: 5, share: 0.25 },
    ])
    expect(rows.reduce((sum, row) => sum + row.share, 0)).toBeCloseTo(1)
    expect(microsPerEventOf(rows, () => true)).toBe(100)
  })

  it('never gives the rest of the machine less than nothing when per-process ticks run ahead', () => {
    const rows = cpuBreakdown({ ...window, processes: [{ name: 'all', pid: 1, before: 0, after: 1_502 }] })
    expect(rows[1]).toMatchObject({ cpuSeconds: 0, share: 0 })
  })

  it('refuses an empty window', () => {
    expect(() => cpuBreakdown({ ...window, machineAfter: window.machineBefore, processes: [] })).toThrow(
      /no CPU time/,
    )
  })
})

describe('processWindows', () => {
  const machine = { busy: 0, idle: 0 }

  it('pairs each process with its ticks when the window opened', () => {
    const before = { machine, processes: [{ name: 'sink', pid: 7, ticks: 10 }] }
    const after = { machine, processes: [{ name: 'sink', pid: 7, ticks: 25 }] }
    expect(processWindows(before, after)).toEqual([{ name: 'sink', pid: 7, before: 10, after: 25 }])
  })

  it('refuses a process that was restarted (a new PID) in the window', () => {
    const before = { machine, processes: [{ name: 'sink', pid: 7, ticks: 10 }] }
    const after = { machine, processes: [{ name: 'sink', pid: 8, ticks: 2 }] }
    expect(() => processWindows(before, after)).toThrow(/sink \(pid 8\) was not running/)
  })
})
