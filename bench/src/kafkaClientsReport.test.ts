import { describe, expect, it } from 'vitest'
import type { DeliveryCheck } from './kafkaClientsDelivery.js'
import type { GuaranteeResult } from './kafkaClientsGuarantees.js'
import { bestRate, pathTable, verdicts, type RunRow } from './kafkaClientsReport.js'

const passed: DeliveryCheck = { passed: true, problems: [], checked: 'ok' }
const failed: DeliveryCheck = { passed: false, problems: ['2 missing (3, 4)'], checked: 'ok' }

const run = (
  client: RunRow['client'],
  path: RunRow['path'],
  eventsPerSecond: number,
  options: { variant?: string; delivery?: DeliveryCheck } = {},
): RunRow => ({
  client,
  version: '1.0.0',
  path,
  variant: options.variant ?? 'v',
  outcome: {
    kind: 'measured',
    events: 100_000,
    seconds: 100_000 / eventsPerSecond,
    cpuSeconds: 2,
    startupSeconds: 0.5,
    delivery: options.delivery ?? passed,
  },
})

const allGuarantees = (passedAll: boolean): GuaranteeResult[] => [
  { guarantee: 'idempotent producer', passed: true, detail: '' },
  { guarantee: 'transactions: fencing by a second producer with the id', passed: passedAll, detail: '' },
]

describe('pathTable', () => {
  it('puts each run beside kafkajs’s run of the same variant, with CPU per event', () => {
    const rows = [run('kafkajs', 'normalizer', 50_000), run('confluent', 'normalizer', 100_000)]
    const { header, lines } = pathTable(rows, 'normalizer')
    expect(header).toEqual([
      'client',
      'how',
      'events/s',
      'CPU µs/event',
      'vs kafkajs',
      'seconds',
      'join+first fetch s',
      'check',
    ])
    expect(lines).toEqual([
      ['kafkajs 1.0.0', 'v', '50,000', '20.0', '1.00x', '2.00', '0.50', 'passed'],
      ['confluent 1.0.0', 'v', '100,000', '20.0', '2.00x', '1.00', '0.50', 'passed'],
    ])
  })

  it('shows no throughput for a run that failed its check, and why a client did not run', () => {
    const rows: RunRow[] = [
      run('kafkajs', 'producer', 50_000),
      run('confluent', 'producer', 90_000, { delivery: failed }),
      {
        client: 'platformatic',
        path: 'producer',
        variant: 'v',
        outcome: { kind: 'unavailable', reason: 'needs Node.js >=22' },
      },
    ]
    const { lines } = pathTable(rows, 'producer')
    expect(lines[1]).toEqual(['confluent 1.0.0', 'v', '-', '-', '-', '1.11', 'FAILED: 2 missing (3, 4)'])
    expect(lines[2]).toEqual(['platformatic', 'v', '-', '-', '-', '-', 'UNAVAILABLE: needs Node.js >=22'])
  })
})

describe('bestRate', () => {
  it('takes the best passing variant', () => {
    const rows = [
      run('kafkajs', 'producer', 50_000, { variant: 'a' }),
      run('kafkajs', 'producer', 70_000, { variant: 'b' }),
      run('kafkajs', 'producer', 90_000, { variant: 'c', delivery: failed }),
    ]
    expect(bestRate(rows, 'kafkajs', 'producer')).toBe(70_000)
    expect(bestRate(rows, 'kafkajs', 'normalizer')).toBeUndefined()
  })
})

describe('verdicts', () => {
  const rows = [
    run('kafkajs', 'producer', 50_000),
    run('kafkajs', 'normalizer', 40_000),
    run('confluent', 'producer', 80_000),
    run('confluent', 'normalizer', 60_000),
    run('platformatic', 'producer', 100_000),
    run('platformatic', 'normalizer', 59_200),
  ]

  it('qualifies a client 1.5x faster on both paths with every guarantee', () => {
    const [confluent] = verdicts(rows, new Map([['confluent', allGuarantees(true)]]), ['confluent'])
    expect(confluent).toEqual({
      client: 'confluent',
      speedups: { producer: 1.6, normalizer: 1.5 },
      failedGuarantees: [],
      qualifies: true,
      reasons: [],
    })
  })

  it('keeps kafkajs for a path under 1.5x, a failed guarantee, or a client that did not run', () => {
    const [platformatic, confluent] = verdicts(
      rows,
      new Map<RunRow['client'], GuaranteeResult[] | { unavailable: string }>([
        ['platformatic', allGuarantees(false)],
        ['confluent', { unavailable: 'needs Node.js >=22' }],
      ]),
      ['platformatic', 'confluent'],
    )
    expect(platformatic?.qualifies).toBe(false)
    expect(platformatic?.reasons).toEqual([
      'normalizer path 1.48x kafkajs (needs 1.5x)',
      'guarantees not shown: transactions: fencing by a second producer with the id',
    ])
    expect(confluent?.reasons).toEqual(['guarantees not shown: not checked: needs Node.js >=22'])
    const none = verdicts([run('kafkajs', 'producer', 1)], new Map(), ['confluent'])[0]
    expect(none?.reasons).toEqual([
      'no passing producer run',
      'no passing normalizer run',
      'guarantees not shown: not checked',
    ])
  })
})
