import { availableParallelism, loadavg } from 'node:os'
import { Kafka, logLevel, Partitioners, type Admin } from 'kafkajs'
import { defaultCacheDir } from '@audit-pipeline/local-stack'
import { createBenchTopics } from './benchTopics.js'
import { baseline, contenders, contendersRoot, type KafkaClientName } from './kafkaClientsContenders.js'
import { checkDelivery } from './kafkaClientsDelivery.js'
import type { GuaranteeResult } from './kafkaClientsGuarantees.js'
import { guaranteeNames } from './kafkaClientsGuarantees.js'
import { prepareContender, type PreparedContender } from './kafkaClientsInstall.js'
import { maxRequestBytes } from './kafkaClientsPaths.js'
import { runWorker } from './kafkaClientsProcess.js'
import { committedOffsets, readTopic, topicEnds } from './kafkaClientsReader.js'
import { benchRecords, eventValueBytes, sendChunks } from './kafkaClientsRecords.js'
import {
  pathTable,
  requiredSpeedup,
  verdicts,
  type PathName,
  type RunOutcome,
  type RunRow,
} from './kafkaClientsReport.js'
import type { WorkerJob, WorkerReport } from './kafkaClientsWorker.js'
import { formatTable } from './table.js'

/** Sends awaiting acknowledgement at once on the producer path: one (as the normalizer's flushes), then a pipeline. */
const producerWindows = [1, 8] as const
/** Partitions of every topic, and partitions the normalizer path handles at once (the normalizer's default). */
const partitions = 6
/** The same for every client: the longest a fetch waits on a partition with nothing new. */
const maxWaitMs = 100
const workerTimeoutMs = 10 * 60_000

export type KafkaClientsOutcome = {
  /** Every run that measured passed its correctness check, kafkajs's included. */
  passed: boolean
  /** No contender met the rule (≥ 1.5× on both paths with every guarantee). */
  kafkajsStays: boolean
}

type Client = { name: KafkaClientName; folder?: string; unavailable?: string }

/**
 * `BENCH_SECTIONS=kafka-clients` (issue 18): kafkajs against @confluentinc/kafka-javascript and
 * @platformatic/kafka behind the same interface (kafkaClientsAdapter.ts), in the same run against
 * the bench's broker. Contenders are installed on demand into the cache (kafkaClientsInstall.ts).
 * Each run is a process of its own (kafkaClientsWorker.ts); each is checked by reading its output
 * back with kafkajs: a run failing the check shows no throughput. Then each client's guarantees,
 * and the verdict under the rule.
 */
export async function kafkaClientsSection(options: {
  brokers: string[]
  /** The PID of the bench's one broker, which one guarantee check stops for a few seconds (SIGSTOP, SIGCONT). */
  brokerPid?: number
  events: number
  env: Record<string, string | undefined>
}): Promise<KafkaClientsOutcome> {
  const { brokers, events } = options
  const warmupEvents = Math.min(20_000, events)
  const stamp = String(Date.now())
  const name = (what: string) => `bench_kc_${what}_${stamp}`
  const log = (line: string) => console.log(line)

  console.log(
    `\nKafka clients (issue 18), Node.js ${process.version}: ${events.toLocaleString('en-US')} records of ` +
      `${eventValueBytes} bytes with keys, ${partitions} partitions, acks=all, idempotent producers; broker on this machine ` +
      `(${brokers[0]}, ${availableParallelism()} CPUs, load average ${loadavg()[0]?.toFixed(1)} before the runs)`,
  )
  const root = contendersRoot(defaultCacheDir(options.env))
  const prepared: PreparedContender[] = []
  for (const contender of contenders) prepared.push(await prepareContender(contender, { root, log }))
  printInstalls(prepared)
  const clients: Client[] = [
    { name: 'kafkajs' },
    ...prepared.map((p) =>
      p.ready
        ? { name: p.contender.name, folder: p.folder }
        : { name: p.contender.name, unavailable: p.reason },
    ),
  ]

  const admin = new Kafka({ clientId: 'bench-kafka-clients', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  const rows: RunRow[] = []
  const guarantees = new Map<KafkaClientName, GuaranteeResult[] | { unavailable: string }>()
  try {
    const run = async (client: Client, job: WorkerJob): Promise<WorkerReport> =>
      client.unavailable !== undefined
        ? { type: 'failed', stage: 'load', message: client.unavailable }
        : runWorker(
            { client: client.name, ...(client.folder && { folder: client.folder }), brokers, maxWaitMs, job },
            {
              timeoutMs: workerTimeoutMs,
            },
          )

    // 1. The producer path.
    for (const window of producerWindows) {
      const variant = window === 1 ? '1 send at a time' : `${window} sends in flight`
      for (const client of clients) {
        const topic = name(`produce_${client.name}_w${window}`)
        const warmupTopic = name(`produce_warmup_${client.name}_w${window}`)
        if (client.unavailable === undefined)
          await createBenchTopics(admin, [topic, warmupTopic], { partitions })
        const report = await run(client, {
          kind: 'produce',
          topic,
          warmupTopic,
          events,
          warmupEvents,
          window,
        })
        rows.push(
          await checkedRow({
            client,
            path: 'producer',
            variant,
            report,
            events,
            admin,
            brokers,
            output: topic,
          }),
        )
        if (client.unavailable === undefined) await admin.deleteTopics({ topics: [topic, warmupTopic] })
      }
    }
    printPath(rows, 'producer')

    // 2. The normalizer path, on one input for all.
    const input = name('forward_in')
    const warmupInput = name('forward_warmup_in')
    await createBenchTopics(admin, [input, warmupInput], { partitions })
    await fill(brokers, input, events)
    await fill(brokers, warmupInput, warmupEvents)
    const ends = await topicEnds(admin, input)
    const warmupEnds = await topicEnds(admin, warmupInput)
    const pairs = (map: Map<number, bigint>): [number, string][] =>
      [...map].map(([p, o]) => [p, o.toString()])
    for (const client of clients) {
      const output = name(`forward_out_${client.name}`)
      const warmupOutput = name(`forward_warmup_out_${client.name}`)
      const groupId = name(`forward_${client.name}`)
      if (client.unavailable === undefined)
        await createBenchTopics(admin, [output, warmupOutput], { partitions })
      const report = await run(client, {
        kind: 'forward',
        input,
        output,
        groupId,
        ends: pairs(ends),
        warmup: {
          input: warmupInput,
          output: warmupOutput,
          groupId: `${groupId}_warmup`,
          ends: pairs(warmupEnds),
        },
        concurrency: partitions,
        stallMs: 60_000,
      })
      rows.push(
        await checkedRow({
          client,
          path: 'normalizer',
          variant: `${partitions} partitions at a time`,
          report,
          events,
          admin,
          brokers,
          output,
          offsets: { groupId, input, ends },
        }),
      )
      if (client.unavailable === undefined) await admin.deleteTopics({ topics: [output, warmupOutput] })
    }
    await admin.deleteTopics({ topics: [input, warmupInput] })
    printPath(rows, 'normalizer')

    // 3. The guarantees.
    const { brokerPid } = options
    for (const client of clients) {
      const report = await run(client, {
        kind: 'guarantees',
        stamp,
        ...(brokerPid !== undefined && { brokerPid }),
      }).finally(() => {
        // Whatever became of the worker, the broker it may have stopped runs on.
        if (brokerPid !== undefined && client.unavailable === undefined) process.kill(brokerPid, 'SIGCONT')
      })
      if (report.type === 'guarantees') guarantees.set(client.name, report.results)
      else
        guarantees.set(client.name, { unavailable: report.type === 'failed' ? report.message : 'no result' })
    }
    printGuarantees(clients, guarantees)
  } finally {
    await admin.disconnect()
  }

  const results = verdicts(
    rows,
    guarantees,
    contenders.map((c) => c.name),
  )
  console.log(
    `\nthe rule: kafkajs stays unless another client is at least ${requiredSpeedup.toFixed(1)}x faster on both paths ` +
      `(best passing run each) with every guarantee shown`,
  )
  for (const verdict of results) {
    const speedups = Object.entries(verdict.speedups)
      .map(([path, speedup]) => `${path} ${speedup.toFixed(2)}x`)
      .join(', ')
    console.log(
      `  ${verdict.client}: ${verdict.qualifies ? 'QUALIFIES' : 'does not qualify'}` +
        `${speedups ? ` (${speedups})` : ''}${verdict.reasons.length > 0 ? `: ${verdict.reasons.join('; ')}` : ''}`,
    )
  }
  const kafkajsStays = !results.some((verdict) => verdict.qualifies)
  console.log(`  => ${kafkajsStays ? 'kafkajs stays' : 'a contender meets the rule: see above'}`)
  const passed = rows.every((row) => row.outcome.kind !== 'measured' || row.outcome.delivery.passed)
  return { passed, kafkajsStays }
}

/** A run's row: its report, and when it measured, the check of what it wrote (and committed). */
async function checkedRow(options: {
  client: Client
  path: PathName
  variant: string
  report: WorkerReport
  events: number
  admin: Admin
  brokers: string[]
  output: string
  offsets?: { groupId: string; input: string; ends: Map<number, bigint> }
}): Promise<RunRow> {
  const { client, path, variant, report, events, admin, brokers } = options
  const row = (outcome: RunOutcome, version?: string): RunRow => ({
    client: client.name,
    ...(version !== undefined && { version }),
    path,
    variant,
    outcome,
  })
  if (report.type !== 'measured') {
    const message = report.type === 'failed' ? report.message : 'unexpected report'
    const unavailable = report.type === 'failed' && report.stage === 'load'
    return row({ kind: unavailable ? 'unavailable' : 'failed', reason: message })
  }
  const delivery = checkDelivery({
    expected: events,
    records: await readTopic({ brokers, admin, topic: options.output }),
    ...(options.offsets && {
      offsets: {
        committed: await committedOffsets(admin, options.offsets.groupId, options.offsets.input),
        ends: options.offsets.ends,
      },
    }),
  })
  const { seconds, cpuSeconds, startupSeconds } = report.times
  return row(
    {
      kind: 'measured',
      events,
      seconds,
      cpuSeconds,
      ...(startupSeconds !== undefined && { startupSeconds }),
      delivery,
    },
    report.version,
  )
}

/** The normalizer path's input: the same records, written by kafkajs (not measured). */
async function fill(brokers: string[], topic: string, events: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-kafka-clients-fill', brokers, logLevel: logLevel.NOTHING })
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    const step = 20_000
    for (let from = 0; from < events; from += step) {
      for (const chunk of sendChunks(benchRecords(from, Math.min(from + step, events)), maxRequestBytes)) {
        await producer.send({ topic, acks: -1, messages: chunk })
      }
    }
  } finally {
    await producer.disconnect()
  }
}

function printInstalls(prepared: readonly PreparedContender[]): void {
  const lines = [
    [baseline.packageName, 'dependency', '-', '-', baseline.description],
    ...prepared.map((p) =>
      p.ready
        ? [
            `${p.contender.packageName}@${p.contender.version}`,
            p.installedNow ? 'installed now' : 'from the cache',
            p.installSeconds.toFixed(0),
            (p.diskBytes / 1e6).toFixed(0),
            `${p.contender.description}; ${p.folder}`,
          ]
        : [`${p.contender.packageName}@${p.contender.version}`, 'UNAVAILABLE', '-', '-', p.reason],
    ),
  ]
  console.log('')
  console.log(formatTable(['client', 'install', 'install s', 'disk MB', 'what, where'], lines))
}

function printPath(rows: readonly RunRow[], path: PathName): void {
  const title =
    path === 'producer'
      ? 'producer path: pre-encoded records with keys sent through the idempotent producer, acks=all, sends of up to 768 KiB; first send to last acknowledgement'
      : 'normalizer path: a group member reads, forwards each batch’s bytes through the idempotent producer, commits after the acknowledgement; first record to last commit'
  const { header, lines } = pathTable(rows, path)
  console.log(`\n${title}`)
  console.log(formatTable(header, lines))
  const checks = rows.filter((row) => row.path === path && row.outcome.kind === 'measured')
  for (const row of checks) {
    if (row.outcome.kind === 'measured' && row.outcome.delivery.passed) {
      console.log(`  ${row.client}, ${row.variant}: ${row.outcome.delivery.checked}`)
    }
  }
}

function printGuarantees(
  clients: readonly Client[],
  guarantees: ReadonlyMap<KafkaClientName, readonly GuaranteeResult[] | { unavailable: string }>,
): void {
  const cell = (client: Client, guarantee: string) => {
    const results = guarantees.get(client.name)
    if (!results || 'unavailable' in results) return '-'
    const result = results.find((r) => r.guarantee === guarantee)
    return result === undefined ? '-' : !result.passed ? 'NO' : result.caveat ? 'yes*' : 'yes'
  }
  console.log(
    '\nguarantees the pipeline relies on, each checked by a script against the broker (kafkajs reads back; ' +
      'yes*: held, but some sends failed, the caller being told):',
  )
  console.log(
    formatTable(
      ['guarantee', ...clients.map((c) => c.name)],
      guaranteeNames.map((guarantee) => [guarantee, ...clients.map((client) => cell(client, guarantee))]),
    ),
  )
  for (const client of clients) {
    const results = guarantees.get(client.name)
    if (!results) continue
    if ('unavailable' in results) {
      console.log(`  ${client.name}: not checked: ${results.unavailable}`)
      continue
    }
    for (const result of results) {
      const mark = !result.passed ? 'FAILED: ' : result.caveat ? '(*) ' : ''
      console.log(`  ${client.name}, ${result.guarantee}: ${mark}${result.detail}`)
    }
  }
}
