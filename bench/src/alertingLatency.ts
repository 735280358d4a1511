import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { Kafka, logLevel, type ConsumerConfig, type EachBatchPayload } from 'kafkajs'
import { Webhook } from 'standardwebhooks'
import { evaluatorFetchSettings, type AlertPayload } from '@audit-pipeline/alerting'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { alertingBenchEvent, alertingBenchRules } from './alertingEvents.js'
import { createBenchTopics } from './benchTopics.js'
import type { PacedProduceReport, PacedProduceRequest } from './pacedProduceWorker.js'
import { percentile } from './sinkLatency.js'
import { metricTotal } from './sinkProcess.js'
import { startAlertingProcess } from './alertingProcess.js'

export type LatencyFigures = {
  /**
   * The evaluator's transactions during the run: how many, how long each (mean, and the bucket
   * bound the 99th percentile falls under), what share of the run they were committing.
   */
  transactions: { count: number; meanMs: number; p99UnderMs: number; busyShare: number }
  /**
   * The service process: CPU seconds used during its life, its event loop's delay p99
   * (prom-client's, since its start), and its garbage collections (count and seconds, by kind).
   */
  service: {
    cpuSeconds: number
    eventLoopDelayP99Ms: number
    gc: { kind: string; count: number; seconds: number }[]
  }
  probes: number
  missing: number
  /** Produced → webhook received (signature verified), ms, ascending. */
  webhookMs: number[]
  /** Produced → read by a plain consumer of the input topic, ms, ascending: the baseline. */
  kafkaMs: number[]
  /**
   * Produced → read by a consumer of the input topic that fetches as the evaluator does
   * (evaluatorFetchSettings), ms, ascending: what those settings add to the baseline.
   */
  kafkaEvaluatorFetchMs: number[]
  /** Produced → its alert written to the alerts topic, read uncommitted (its transaction still open), ms. */
  alertWrittenMs: number[]
  /** Produced → its alert readable (committed) on the alerts topic, ms, ascending: the evaluator's share. */
  alertTopicMs: number[]
  background: PacedProduceReport | undefined
}

export { percentile }

/**
 * The alerting service as its own process (100 rules and a probe rule, one signed webhook
 * receiver on 127.0.0.1) while a worker thread produces background traffic at `eventsPerSecond`: every
 * 100 ms a probe event is produced and timed until its alert's webhook arrives. The baseline is
 * the same probe's trip through Kafka alone, to a plain consumer in this process.
 */
export async function alertingLatency(options: {
  brokers: string[]
  registryUrl: string
  codec: AuditEventCodec
  eventsPerSecond: number
  seconds: number
  /** Background traffic before the first probe (the service's code warmed up, its caches filled), s. */
  warmupSeconds: number
  /** Also time the input through a reader that fetches as the evaluator does. */
  breakdown?: boolean
  /** ALERTING_COMMIT_INTERVAL_MS for the service; its default when unset. */
  commitIntervalMs?: number
}): Promise<LatencyFigures> {
  const { brokers, codec } = options
  const kafka = new Kafka({ clientId: 'bench-alerting', brokers, logLevel: logLevel.NOTHING })
  const stamp = Date.now()
  const input = `bench_alerting_in_${stamp}`
  const admin = kafka.admin()
  await admin.connect()
  await createBenchTopics(admin, [input], { partitions: 6 })
  await admin.disconnect()

  const secret = `whsec_${Buffer.from(randomUUID()).toString('base64')}`
  const verifier = new Webhook(secret)
  const sentAt = new Map<string, number>()
  const webhookMs: number[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const receivedAt = Date.now()
      const headers = Object.fromEntries(
        Object.entries(request.headers).flatMap(([name, value]) =>
          typeof value === 'string' ? [[name, value]] : [],
        ),
      )
      const { data } = verifier.verify(Buffer.concat(chunks), headers) as { data: AlertPayload }
      const probe = data.triggering_event_ids[0]
      const sent = probe === undefined ? undefined : sentAt.get(probe)
      if (sent !== undefined) webhookMs.push(receivedAt - sent)
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`

  const dir = mkdtempSync(join(tmpdir(), 'bench-alerting-'))
  const probeRule = `  - id: bench-probe\n    kind: match\n    severity: critical\n    filter: event.action.name == "bench.probe"\n`
  writeFileSync(join(dir, 'rules.yaml'), `${alertingBenchRules(100)}${probeRule}`)
  writeFileSync(
    join(dir, 'receivers.yaml'),
    `receivers:\n  - name: bench\n    url: ${url}\n    secretEnv: BENCH_SECRET\n    rules: [bench-probe]\n    allowedPrivateAddresses: [127.0.0.1]\n`,
  )
  const env = {
    KAFKA_BROKERS: brokers.join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl,
    ALERTING_INPUT_TOPICS: input,
    ALERTING_ALERTS_TOPIC: `bench_alerting_alerts_${stamp}`,
    ALERTING_STATE_TOPIC: `bench_alerting_state_${stamp}`,
    ALERTING_DEAD_LETTER_TOPIC: `bench_alerting_dlq_${stamp}`,
    ALERTING_CONFLICT_INPUT_TOPICS: `bench_alerting_dlq_${stamp}`,
    ALERTING_GROUP_ID: `bench-alerting-${stamp}`,
    ALERTING_RULES_FILE: join(dir, 'rules.yaml'),
    ALERTING_RECEIVERS_FILE: join(dir, 'receivers.yaml'),
    // The input topic is the bench's own and new: nothing to skip.
    ALERTING_START_FROM: 'earliest',
    BENCH_SECRET: secret,
    ...(options.commitIntervalMs !== undefined && {
      ALERTING_COMMIT_INTERVAL_MS: String(options.commitIntervalMs),
    }),
  }
  const service = await startAlertingProcess(env)

  // Timing readers in this process, each its own group: the baseline (the probes' trip through
  // Kafka to a plain consumer), the same with the evaluator's fetch settings, and where the alert
  // stands on the alerts topic (written in its open transaction; committed).
  const readers: { joined: boolean; disconnect: () => Promise<void> }[] = []
  const timingReader = async (
    name: string,
    topic: string,
    settings: Partial<ConsumerConfig>,
    probeOf: (
      message: EachBatchPayload['batch']['messages'][number],
    ) => string | undefined | Promise<string | undefined>,
    into: number[],
  ) => {
    const consumer = kafka.consumer({
      groupId: `bench-alerting-${name}-${stamp}`,
      maxWaitTimeInMs: 50,
      ...settings,
    })
    const reader = { joined: false, disconnect: () => consumer.disconnect() }
    readers.push(reader)
    await consumer.connect()
    await consumer.subscribe({ topics: [topic] })
    consumer.on(consumer.events.GROUP_JOIN, () => (reader.joined = true))
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now()
        for (const message of batch.messages) {
          // The baseline's reading stays synchronous: only the alerts need decoding.
          const read = probeOf(message)
          const probe = read instanceof Promise ? await read : read
          const sent = probe === undefined ? undefined : sentAt.get(probe)
          if (sent !== undefined) into.push(now - sent)
        }
      },
    })
  }
  const inputProbe = (message: { headers?: Record<string, unknown> }) =>
    (message.headers?.['bench-probe'] as Buffer | undefined)?.toString()
  const alertProbe = async (message: { value: Buffer | null }) => {
    if (message.value === null) return undefined
    const alert = await codec.decode(message.value)
    return (JSON.parse(alert.attributes['alert.triggering_event_ids'] ?? '[]') as string[])[0]
  }
  const kafkaMs: number[] = []
  const kafkaEvaluatorFetchMs: number[] = []
  const alertWrittenMs: number[] = []
  const alertTopicMs: number[] = []
  await timingReader('baseline', input, {}, inputProbe, kafkaMs)
  // A second reader of the whole input adds to this process's load (the baseline's and the
  // receiver's): only when asked.
  if (options.breakdown) {
    await timingReader(
      'evaluator-fetch',
      input,
      { ...evaluatorFetchSettings },
      inputProbe,
      kafkaEvaluatorFetchMs,
    )
  }
  await timingReader(
    'alerts-written',
    env.ALERTING_ALERTS_TOPIC,
    { readUncommitted: true },
    alertProbe,
    alertWrittenMs,
  )
  await timingReader('alerts', env.ALERTING_ALERTS_TOPIC, {}, alertProbe, alertTopicMs)
  for (let i = 0; readers.some((reader) => !reader.joined); i++) {
    if (i > 600) throw new Error('the timing consumers did not join in 60 s')
    await sleep(100)
  }

  const worker = new Worker(new URL('./pacedProduceWorker.js', import.meta.url), {
    workerData: {
      brokers,
      registryUrl: options.registryUrl,
      topic: input,
      eventsPerSecond: options.eventsPerSecond,
      seconds: options.warmupSeconds + options.seconds,
      tickMs: 20,
    } satisfies PacedProduceRequest,
  })
  let background: PacedProduceReport | undefined
  worker.on('message', (report: PacedProduceReport) => (background = report))
  const workerDone = new Promise<void>((resolve) => worker.once('exit', () => resolve()))

  let metricsText = ''
  const producer = kafka.producer()
  await producer.connect()
  const probes = Math.floor((options.seconds * 1000) / 100) - 10
  try {
    // Load shaping, not synchronisation: the probes start once the background has run this long.
    await sleep(options.warmupSeconds * 1000)
    for (let i = 0; i < probes; i++) {
      const due = performance.now() + 100
      const event = { ...alertingBenchEvent(i, Date.now()), event_id: randomUUID() }
      event.action = { kind: 'operation', name: 'bench.probe' }
      const value = codec.encode(event)
      sentAt.set(event.event_id, Date.now())
      await producer.send({
        topic: input,
        messages: [{ key: event.event_id, value, headers: { 'bench-probe': event.event_id } }],
      })
      await sleep(Math.max(0, due - performance.now()))
    }
    // Late webhooks still count, up to 10 s after the last probe.
    for (let i = 0; i < 100 && webhookMs.length < probes; i++) await sleep(100)
  } finally {
    await workerDone
    await producer.disconnect()
    for (const reader of readers) await reader.disconnect()
    metricsText = await fetch(service.metricsUrl).then((response) => response.text())
    await service.stop()
    server.close()
  }
  // Where the evaluator's time goes: its transactions (alerts, state changes, offsets in one).
  const transactionCount = metricTotal(metricsText, 'audit_alerting_transaction_duration_seconds_count')
  const transactionSum = metricTotal(metricsText, 'audit_alerting_transaction_duration_seconds_sum')
  return {
    transactions: {
      count: transactionCount,
      meanMs: transactionCount === 0 ? 0 : (transactionSum / transactionCount) * 1000,
      p99UnderMs: histogramBoundMs(metricsText, 'audit_alerting_transaction_duration_seconds', 0.99),
      busyShare: transactionSum / (options.warmupSeconds + options.seconds),
    },
    service: {
      cpuSeconds: metricTotal(metricsText, 'process_cpu_seconds_total'),
      eventLoopDelayP99Ms: metricTotal(metricsText, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      gc: ['major', 'minor', 'incremental'].map((kind) => ({
        kind,
        count: labelledTotal(metricsText, 'nodejs_gc_duration_seconds_count', `kind="${kind}"`),
        seconds: labelledTotal(metricsText, 'nodejs_gc_duration_seconds_sum', `kind="${kind}"`),
      })),
    },
    probes,
    missing: probes - webhookMs.length,
    webhookMs: webhookMs.sort((a, b) => a - b),
    kafkaMs: kafkaMs.sort((a, b) => a - b),
    kafkaEvaluatorFetchMs: kafkaEvaluatorFetchMs.sort((a, b) => a - b),
    alertWrittenMs: alertWrittenMs.sort((a, b) => a - b),
    alertTopicMs: alertTopicMs.sort((a, b) => a - b),
    background,
  }
}

/**
 * The upper bound, in ms, of the histogram bucket (Prometheus text, seconds) that the given
 * quantile of its observations falls in; Infinity past the last bucket, NaN without observations.
 */
export function histogramBoundMs(text: string, name: string, quantile: number): number {
  const buckets: { le: number; count: number }[] = []
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"(?:,.*)?\\} (\\S+)$`).exec(line)
    if (!match) continue
    buckets.push({ le: match[1] === '+Inf' ? Infinity : Number(match[1]), count: Number(match[2]) })
  }
  const total = buckets.at(-1)?.count ?? 0
  if (total === 0) return Number.NaN
  const bucket = buckets.find((entry) => entry.count >= quantile * total)
  return (bucket?.le ?? Infinity) * 1000
}

/** The sum of a metric's samples (Prometheus text) whose labels include `label` (`name="value"`). */
function labelledTotal(text: string, name: string, label: string): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labels = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (!labels.split(',').includes(label)) continue
    const value = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) total += value
  }
  return total
}
