import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { alertingLatency, percentile } from './alertingLatency.js'
import { alertingThroughput } from './alertingThroughput.js'
import { formatTable } from './table.js'

export type AlertingSectionOptions = {
  brokers: string[]
  registryUrl: string
  env: NodeJS.ProcessEnv
}

/** What the alerting service must do (issue 6). */
export const alertingTarget = {
  eventsPerSecond: 50_000,
  rules: 100,
  // Issue 18: the alert path's p99 at most twice Kafka's own p99, measured in the same run.
  latency: { eventsPerSecond: 5_000, seconds: 30, warmupSeconds: 5, p99VsKafkaP99: 2 },
} as const

const perSecond = (value: number) => value.toLocaleString('en-US')
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED')
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'never')

/**
 * The alerting service: the rule engine's throughput with 100 rules against Avro decoding alone,
 * then the time from an event produced to its alert's signed webhook received while background
 * traffic flows, against the same events' trip through Kafka alone.
 *
 *   BENCH_ALERTING_EVENTS           events for the throughput run (default 200000)
 *   BENCH_ALERTING_LATENCY_SECONDS  length of the latency run (default 30)
 *   BENCH_ALERTING_BACKGROUND_EVENTS_PER_SECOND  background traffic during it (default 5000)
 *   BENCH_ALERTING_WARMUP_SECONDS   background traffic before the first probe (default 5)
 *   BENCH_ALERTING_COMMIT_INTERVAL_MS  the service's ALERTING_COMMIT_INTERVAL_MS (default: its own)
 *   BENCH_ALERTING_BIN              another build of the service to run (default: the workspace's)
 *   BENCH_ALERTING_BREAKDOWN=1      also time the input through a reader fetching as the evaluator does
 */
export async function alertingSection(options: AlertingSectionOptions): Promise<void> {
  const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: options.registryUrl }) })
  const events = Number(options.env['BENCH_ALERTING_EVENTS'] ?? 200_000)
  const throughput = await alertingThroughput({ codec, events, rules: alertingTarget.rules })
  const { decodeOnly, engine, decodeAndEngine } = throughput
  console.log(
    `\n## Alerting: rule evaluation, ${throughput.rules} rules, ${perSecond(events)} events, in process\n`,
  )
  console.log(
    formatTable(
      ['stage', 'events/s (wall)', 'events/CPU-s', 'vs decode only (CPU)'],
      [
        ['Avro decode only (baseline)', perSecond(decodeOnly.wall), perSecond(decodeOnly.cpu), '1.00'],
        [
          `engine, ${throughput.rules} rules`,
          perSecond(engine.wall),
          perSecond(engine.cpu),
          (engine.cpu / decodeOnly.cpu).toFixed(2),
        ],
        [
          'decode + engine',
          perSecond(decodeAndEngine.wall),
          perSecond(decodeAndEngine.cpu),
          (decodeAndEngine.cpu / decodeOnly.cpu).toFixed(2),
        ],
      ],
    ),
  )
  console.log(
    `\nalerts raised: ${throughput.alerts}; state entries: ${throughput.stateEntries}; ` +
      `target ≥ ${perSecond(alertingTarget.eventsPerSecond)} events/s with ${alertingTarget.rules} rules ` +
      `(engine, per CPU-second): ${verdict(engine.cpu >= alertingTarget.eventsPerSecond)}`,
  )

  const { latency: target } = alertingTarget
  const seconds = Number(options.env['BENCH_ALERTING_LATENCY_SECONDS'] ?? target.seconds)
  const warmupSeconds = Number(options.env['BENCH_ALERTING_WARMUP_SECONDS'] ?? target.warmupSeconds)
  const background = Number(
    options.env['BENCH_ALERTING_BACKGROUND_EVENTS_PER_SECOND'] ?? target.eventsPerSecond,
  )
  const run = await alertingLatency({
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    codec,
    eventsPerSecond: background,
    seconds,
    warmupSeconds,
    breakdown: options.env['BENCH_ALERTING_BREAKDOWN'] === '1',
    ...(options.env['BENCH_ALERTING_COMMIT_INTERVAL_MS'] !== undefined && {
      commitIntervalMs: Number(options.env['BENCH_ALERTING_COMMIT_INTERVAL_MS']),
    }),
  })
  const row = (name: string, values: number[]) => [
    name,
    String(values.length),
    ms(percentile(values, 50)),
    ms(percentile(values, 99)),
    ms(values.at(-1) ?? Number.NaN),
  ]
  console.log(
    `\n## Alerting (its own process): event produced → webhook received, ${perSecond(background)} events/s background, ${seconds} s after ${warmupSeconds} s of it\n`,
  )
  console.log(
    formatTable(
      ['path', 'probes', 'p50', 'p99', 'max'],
      [
        row('Kafka only: produce → consume (baseline)', run.kafkaMs),
        ...(run.kafkaEvaluatorFetchMs.length > 0
          ? [row('Kafka only, fetching as the evaluator does', run.kafkaEvaluatorFetchMs)]
          : []),
        row('event → alert written, its transaction open', run.alertWrittenMs),
        row('event → alert committed on the alerts topic', run.alertTopicMs),
        row('event → alert → signed webhook', run.webhookMs),
      ],
    ),
  )
  const p99 = run.missing > 0 ? Number.POSITIVE_INFINITY : percentile(run.webhookMs, 99)
  const ratio = p99 / percentile(run.kafkaMs, 99)
  const produced = run.background
  console.log(
    `\nbackground: ${produced ? `${perSecond(produced.sent)} events in ${produced.seconds.toFixed(1)} s, ${produced.lateTicks} late ticks` : 'no report'}; ` +
      `probes without a webhook: ${run.missing}; webhook p99 vs Kafka-only p99 (same run): ${ratio.toFixed(2)}x; ` +
      `target ≤ ${target.p99VsKafkaP99}x at ${perSecond(target.eventsPerSecond)} events/s: ${background === target.eventsPerSecond ? verdict(ratio <= target.p99VsKafkaP99) : 'not measured (other background rate)'}`,
  )
  const { transactions } = run
  console.log(
    `evaluator transactions (alerts + state changes + offsets): ${perSecond(transactions.count)} in the run, ` +
      `mean ${transactions.meanMs.toFixed(1)} ms each, 99% under ${ms(transactions.p99UnderMs)}, committing ${(transactions.busyShare * 100).toFixed(0)}% of the time`,
  )
  console.log(
    `alerting process: ${run.service.cpuSeconds.toFixed(1)} CPU-s over its life (${warmupSeconds + seconds} s of traffic), ` +
      `event loop delay p99 ${run.service.eventLoopDelayP99Ms.toFixed(0)} ms; garbage collection: ` +
      run.service.gc
        .map(({ kind, count, seconds: spent }) => `${kind} ${count} (${(spent * 1000).toFixed(0)} ms)`)
        .join(', '),
  )
}
