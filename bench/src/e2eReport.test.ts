import { describe, expect, it } from 'vitest'
import { cpuTable, e2eTargetLine } from './e2eReport.js'

const target = "target: end to end: at least 0.25x Kafka's producer ceiling, with the correctness gate"

describe('e2eTargetLine', () => {
  it('is met at a quarter of the ceiling or more, with the ratio and both rates', () => {
    expect(
      e2eTargetLine({ gatePassed: true, eventsPerSecond: 25_000, ceilingRecordsPerSecond: 100_000 }),
    ).toBe(`${target}: met (0.25x: 25,000 events/s against 100,000 records/s)`)
  })

  it('is MISSED below it', () => {
    expect(
      e2eTargetLine({ gatePassed: true, eventsPerSecond: 12_345.6, ceilingRecordsPerSecond: 100_000 }),
    ).toBe(`${target}: MISSED (0.12x: 12,346 events/s against 100,000 records/s)`)
  })

  it('is MISSED, with no figure, when the gate failed, however fast the run was', () => {
    expect(
      e2eTargetLine({ gatePassed: false, eventsPerSecond: 90_000, ceilingRecordsPerSecond: 100_000 }),
    ).toBe(`${target}: MISSED (the correctness gate failed: no throughput figure)`)
  })
})

describe('cpuTable', () => {
  it('prints a row per process and leaves blank what a row has not', () => {
    const table = cpuTable(
      [
        { name: 'normalizer', pid: 42, cpuSeconds: 12.34, microsPerEvent: 61.7, share: 0.3 },
        { name: 'idle', cpuSeconds: 4, share: 0.1 },
      ],
      2,
    )
    expect(table.split('\n')).toEqual([
      'process     pid  CPU s  CPU µs/event  share of the 2 CPUs',
      '----------  ---  -----  ------------  -------------------',
      'normalizer   42   12.3          61.7                30.0%',
      'idle               4.0                              10.0%',
    ])
  })
})
