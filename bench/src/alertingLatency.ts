import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { Kafka, logLevel } from 'kafkajs'
import { Webhook } from 'standardwebhooks'
import type { AlertPayload } from '@audit-pipeline/alerting'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { alertingBenchEvent, alertingBenchRules } from './alertingEvents.js'
import { createBenchTopics } from './benchTopics.js'
import type { PacedProduceReport, PacedProduceRequest } from './pacedProduceWorker.js'
import { percentile } from './sinkLatency.js'
import { metricTotal } from './sinkProcess.js'
import { startAlertingProcess } from './alertingProcess.js'

export type LatencyFigures = {
  /** The evaluator's transactions during the run: how many, how long each, what share of the run. */
  transactions: { count: number; meanMs: number; busyShare: number }
  probes: number
  missing: number
  /** Produced → webhook received (signature verified), ms, ascending. */
  webhookMs: number[]
  /** Produced → read by a plain consumer of the input topic, ms, ascending: the baseline. */
  kafkaMs: number[]
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
  }
  const service = await startAlertingProcess(env)

  // The baseline: the probes' trip through Kafka to a plain consumer.
  const kafkaMs: number[] = []
  const baseline = kafka.consumer({ groupId: `bench-alerting-baseline-${stamp}`, maxWaitTimeInMs: 50 })
  await baseline.connect()
  await baseline.subscribe({ topics: [input] })
  let baselineJoined = false
  baseline.on(baseline.events.GROUP_JOIN, () => (baselineJoined = true))
  await baseline.run({
    eachBatch: ({ batch }) => {
      const now = Date.now()
      for (const message of batch.messages) {
        const probe = message.headers?.['bench-probe']?.toString()
        const sent = probe === undefined ? undefined : sentAt.get(probe)
        if (sent !== undefined) kafkaMs.push(now - sent)
      }
      return Promise.resolve()
    },
  })
  // Where the time goes: the alert's commit on the alerts topic, before the webhook stage.
  const alertTopicMs: number[] = []
  const alertsReader = kafka.consumer({ groupId: `bench-alerting-alerts-${stamp}`, maxWaitTimeInMs: 50 })
  await alertsReader.connect()
  await alertsReader.subscribe({ topics: [env.ALERTING_ALERTS_TOPIC] })
  let alertsJoined = false
  alertsReader.on(alertsReader.events.GROUP_JOIN, () => (alertsJoined = true))
  await alertsReader.run({
    eachBatch: async ({ batch }) => {
      const now = Date.now()
      for (const message of batch.messages) {
        if (message.value === null) continue
        const alert = await codec.decode(message.value)
        const probe = JSON.parse(alert.attributes['alert.triggering_event_ids'] ?? '[]') as string[]
        const sent = probe[0] === undefined ? undefined : sentAt.get(probe[0])
        if (sent !== undefined) alertTopicMs.push(now - sent)
      }
    },
  })
  for (let i = 0; !baselineJoined || !alertsJoined; i++) {
    if (i > 600) throw new Error('the baseline consumer did not join in 60 s')
    await sleep(100)
  }

  const worker = new Worker(new URL('./pacedProduceWorker.js', import.meta.url), {
    workerData: {
      brokers,
      registryUrl: options.registryUrl,
      topic: input,
      eventsPerSecond: options.eventsPerSecond,
      seconds: options.seconds,
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
    await baseline.disconnect()
    await alertsReader.disconnect()
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
      busyShare: transactionSum / options.seconds,
    },
    probes,
    missing: probes - webhookMs.length,
    webhookMs: webhookMs.sort((a, b) => a - b),
    kafkaMs: kafkaMs.sort((a, b) => a - b),
    alertTopicMs: alertTopicMs.sort((a, b) => a - b),
    background,
  }
}
