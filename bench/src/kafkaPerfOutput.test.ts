import { describe, expect, it } from 'vitest'
import { parseConsumerPerformance, parseProducerPerformance } from './kafkaPerfOutput.js'

// Captured from Kafka 4.4.0's tools against the local stack's broker (6 partitions, acks=all).
const producerRun = `Option --producer-props has been deprecated and will be removed in a future version. Use --command-property instead.
500000 records sent, 149432.157800 records/sec (85.51 MB/sec), 269.90 ms avg latency, 581.00 ms max latency, 231 ms 50th, 505 ms 95th, 555 ms 99th, 567 ms 99.9th.
`

const producerRunWithWarmup = `Warmup first 200000 records. Steady state results will print after the complete test summary.
In steady state.
284246 records sent, 56792.4 records/sec (32.50 MB/sec), 688.1 ms avg latency, 1784.0 ms max latency.
407860 records sent, 80988.9 records/sec (46.34 MB/sec), 654.4 ms avg latency, 1554.0 ms max latency.
1000000 records sent, 62920.782735 records/sec (36.00 MB/sec), 689.06 ms avg latency, 1784.00 ms max latency, 586 ms 50th, 1485 ms 95th, 1711 ms 99th, 1752 ms 99.9th.
800000 steady state records sent, 66761.245097 records/sec (38.20 MB/sec), 699.51 ms avg latency, 1784.00 ms max latency, 593 ms 50th, 1523 ms 95th, 1717 ms 99th, 1757 ms 99.9th.
`

const consumerRun = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-07 19:41:55:445, 2026-12-07 19:42:00:803, 862.0157, 160.8839, 1500000, 279955.2072, 949, 4409, 195.5128, 340213.2003
`

const consumerTimedOut = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
WARNING: Exiting before consuming the expected number of records: timeout (3000 ms) exceeded. You can use the --timeout option to increase the timeout.
2026-12-07 19:45:37:363, 2026-12-07 19:45:47:608, 2010.1337, 196.2063, 3500000, 341630.0634, 415, 9830, 204.4897, 356052.8993
`

describe('parseProducerPerformance', () => {
  it('reads the summary line, not the deprecation notice', () => {
    expect(parseProducerPerformance(producerRun)).toEqual({
      total: {
        records: 500_000,
        recordsPerSecond: 149_432.1578,
        megabytesPerSecond: 85.51,
        avgLatencyMs: 269.9,
        maxLatencyMs: 581,
        p50Ms: 231,
        p95Ms: 505,
        p99Ms: 555,
        p999Ms: 567,
      },
    })
  })

  it('tells the complete run from its steady state, and skips the progress lines', () => {
    const { total, steadyState } = parseProducerPerformance(producerRunWithWarmup)
    expect(total).toMatchObject({ records: 1_000_000, recordsPerSecond: 62_920.782735, p99Ms: 1711 })
    expect(steadyState).toMatchObject({ records: 800_000, recordsPerSecond: 66_761.245097, p999Ms: 1757 })
  })

  it('reads the summary of a run that could send nothing (no broker at the address)', () => {
    const failed =
      'org.apache.kafka.common.errors.TimeoutException: Topic perf1 not present in metadata after 3000 ms.\n' +
      '0 records sent, 0.000000 records/sec (0.00 MB/sec), NaN ms avg latency, 0.00 ms max latency, 0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th.\n'
    expect(parseProducerPerformance(failed).total).toMatchObject({ records: 0, avgLatencyMs: Number.NaN })
  })

  it('throws with the output when there is no summary', () => {
    const progressOnly =
      '284246 records sent, 56792.4 records/sec (32.50 MB/sec), 688.1 ms avg latency, 1784.0 ms max latency.\n'
    expect(() => parseProducerPerformance(progressOnly)).toThrow(/no summary line:\n {2}284246 records sent/)
  })
})

describe('parseConsumerPerformance', () => {
  it('reads the figures by the header’s column names', () => {
    expect(parseConsumerPerformance(consumerRun)).toEqual({
      megabytes: 862.0157,
      megabytesPerSecond: 160.8839,
      records: 1_500_000,
      recordsPerSecond: 279_955.2072,
      rebalanceMs: 949,
      fetchMs: 4409,
      fetchRecordsPerSecond: 340_213.2003,
      warnings: [],
    })
  })

  it('keeps the warning printed when it gave up waiting for more records', () => {
    const summary = parseConsumerPerformance(consumerTimedOut)
    expect(summary.records).toBe(3_500_000)
    expect(summary.warnings).toEqual([expect.stringMatching(/^WARNING: Exiting before consuming/)])
  })

  it('throws with the output when the figures are missing', () => {
    expect(() => parseConsumerPerformance('Exception in thread "main"\n')).toThrow(/no header and figures/)
  })
})
