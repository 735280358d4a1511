import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { createEventBuilder } from '@audit-pipeline/producer'
import type { StackState } from '@audit-pipeline/local-stack'
import { messageCount } from './committedOffsets.js'
import { cpuBreakdown, microsPerEventOf, processWindows, type NamedProcess } from './cpuAccounting.js'
import { clockTicksPerSecond } from './cpuSnapshot.js'
import {
  e2eAlertRule,
  e2eEvent,
  e2eExpectation,
  e2eProducerDefaults,
  e2eTraffic,
  eventsPerProducer,
  type E2eRun,
} from './e2eEvents.js'
import { correctnessGate, gateLines } from './e2eGate.js'
import { startE2ePipeline, type E2ePipeline } from './e2ePipeline.js'
import type { E2eProducerRequest } from './e2eProducerProcess.js'
import { startE2eProducers, type E2eProducers } from './e2eProducers.js'
import { cpuTable, e2eTargetLine } from './e2eReport.js'
import { runE2e } from './e2eRun.js'
import { readStoredOutcome } from './e2eStored.js'
import {
  addInboxLine,
  alertCounts,
  alertedEvents,
  alertRedeliveries,
  createInboxTally,
  disabledRules,
  type InboxTally,
} from './inboxDeliveries.js'
import { kafkaCeiling, type CeilingRun } from './kafkaCeiling.js'
import { fetchKafkaTools } from './kafkaPerfTools.js'
import { formatTable } from './table.js'

export type E2eSectionOptions = {
  /** The bench's stack: its broker and registry are this machine's processes, whose CPU time is read. */
  state: StackState
  env: NodeJS.ProcessEnv
}

const count = (value: number) => Math.round(value).toLocaleString('en-US')

/**
 * End to end, on this machine in one run: Kafka's own ProducerPerformance and ConsumerPerformance
 * against the bench's broker (records of the pipeline's Avro size, 6 partitions, acks=all: the
 * ceiling), then the pipeline as `npm start` runs it (deploy/local-stack's startPipeline: webhook
 * inbox, normalizer, alerting with npm start's rules, the ClickHouse sink with embedded ClickHouse
 * and the query API, the forwarder) on topics, a database and a state folder of its own, fed by
 * producer processes through the SDK. Throughput is from the first produce until the last event
 * is queryable (the query API's SQL over the analysts' view); a correctness gate then compares
 * every stage with what was acknowledged, and a run that fails it prints what was lost,
 * duplicated or unexpected and no throughput. CPU time of every process (/proc) says what each
 * stage costs per event and where the machine's CPUs went.
 *
 * Several producer processes, because that is how producing scales: the SDK runs on its
 * process's one JavaScript thread with one request in flight (acks=all, idempotent, in order per
 * key), so a service that emits more runs more instances, each with its SDK. Two by default, one
 * per CPU of the reference machine: more would only take turns on the same two CPUs.
 *
 *   BENCH_E2E_EVENTS            events through the pipeline (default 200000)
 *   BENCH_E2E_PRODUCERS         producer processes (default 2)
 *   BENCH_E2E_CEILING_RECORDS   records per run of Kafka's tools (default 500000)
 *
 * Returns whether the run passed the gate (the target line says whether it was fast enough).
 */
export async function e2eSection(options: E2eSectionOptions): Promise<{ passed: boolean }> {
  const { state, env } = options
  const nodes = state.kafka.nodes ?? []
  const registryPid = state.schemaRegistry.process?.pid
  // Kafka's tools run on the broker's own JDK, at its version.
  const broker = nodes[0]
  const java = broker?.launch?.command
  if (broker === undefined || java === undefined || registryPid === undefined) {
    console.log(
      '\n## End to end: not run. It measures the broker and the registry on this machine, and the bench was given ' +
        'others (KAFKA_BROKERS or SCHEMA_REGISTRY_URL): unset them to run it.',
    )
    return { passed: false }
  }
  const events = positive(env, 'BENCH_E2E_EVENTS', 200_000)
  const producerCount = positive(env, 'BENCH_E2E_PRODUCERS', 2)
  const ceilingRecords = positive(env, 'BENCH_E2E_CEILING_RECORDS', 500_000)
  const { brokers } = state.kafka
  const registryUrl = state.schemaRegistry.url
  const stamp = Date.now()
  const run: E2eRun = { id: stamp % 0x1_0000_0000, tenant: `bench-e2e-${stamp}` }
  const cpus = availableParallelism()
  const ticksPerSecond = clockTicksPerSecond()
  const brokerProcesses: NamedProcess[] = nodes.map((node) => ({
    name: nodes.length === 1 ? 'Kafka broker (JVM)' : `Kafka broker ${node.id} (JVM)`,
    pid: node.pid,
  }))
  const stackProcesses = [...brokerProcesses, { name: 'schema registry (JVM)', pid: registryPid }]

  const recordSize = await averageEventBytes(run, registryUrl)
  console.log(
    `\n## End to end: the pipeline as npm start runs it, against Kafka's own tools, on this machine ` +
      `(${cpus} CPUs, load average ${loadavg()[0]?.toFixed(1)} before the runs)\n`,
  )

  // The ceiling: Kafka alone, the same records (size, partitions, acks) as the pipeline's input.
  const tools = await fetchKafkaTools({ java, version: broker.version, env })
  const keys = producerCount * e2eTraffic.ticketsPerProducer
  const ceiling = await kafkaCeiling({
    tools,
    brokers,
    prefix: `bench_e2e_${stamp}`,
    records: ceilingRecords,
    recordSize,
    keys,
    brokerProcesses,
    ticksPerSecond,
  })
  console.log(
    `Kafka alone: org.apache.kafka.tools ${tools.version} (java -cp, the broker's JDK${tools.fetched ? '; fetched from Maven Central just now, once per machine' : ''}), ${count(ceilingRecords)} records ` +
      `of ${recordSize} bytes (the pipeline's Avro events) on 6 partitions, acks=all, broker ${brokers[0]}:\n`,
  )
  console.log(
    formatTable(
      ['run', 'records/s', 'MB/s', 'p99 latency', 'broker CPU µs/record'],
      [
        ceilingRow(`ProducerPerformance, keyed over ${count(keys)} keys (the ceiling)`, ceiling.keyed),
        ceilingRow('ProducerPerformance, no keys (the tool’s default)', ceiling.unkeyed),
        [
          'ConsumerPerformance, the keyed topic (fetch rate, after joining)',
          count(ceiling.consumed.summary.fetchRecordsPerSecond),
          (ceiling.consumed.summary.megabytes / (ceiling.consumed.summary.fetchMs / 1000)).toFixed(1),
          '',
          ceiling.consumed.brokerMicrosPerRecord.toFixed(1),
        ],
      ],
    ),
  )
  const ceilingRate = ceiling.keyed.result.total.recordsPerSecond

  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-e2e-'))
  let pipeline: E2ePipeline | undefined
  let producers: E2eProducers | undefined
  try {
    pipeline = await startE2ePipeline({
      brokers,
      registryUrl,
      prefix: `bench_e2e_${stamp}`,
      dir,
      env,
      log: (line) => {
        // Exits and restarts are news; start-up lines are not.
        if (line.startsWith('[supervisor')) console.log(`  ${line}`)
      },
    })
    const { names } = pipeline
    const counts = eventsPerProducer(events, producerCount)
    producers = await startE2eProducers(
      counts.map((producerEvents, producer): E2eProducerRequest => ({
        brokers,
        registryUrl,
        topic: names.topics.events,
        run,
        producer,
        events: producerEvents,
        window: 10_000,
      })),
    )
    console.log(
      `\nThe pipeline: ${count(events)} events from ${producerCount} producer process${producerCount === 1 ? '' : 'es'} (SDK \`updated\`, Avro, acks=all) → ` +
        `normalizer → ClickHouse sink (embedded ClickHouse, queried through the query API), alerting (deploy/alerting/rules.yaml), ` +
        `forwarder → webhook inbox on 127.0.0.1; topics ${names.topics.events} and the rest of ${`bench_e2e_${stamp}`}.*, ` +
        `database ${names.database}, state folder ${join(dir, 'stack')}; load average ${loadavg()[0]?.toFixed(1)}`,
    )
    if (pipeline.passedOn.length > 0) {
      console.log(`service settings from the environment: ${pipeline.passedOn.join(' ')}`)
    }
    const producerProcesses = producers.pids.map((pid, i) => ({ name: `producer ${i + 1} (SDK)`, pid }))
    const benchProcess = {
      name: 'bench (this process: polls the query API, reads the inbox log)',
      pid: process.pid,
    }
    const started = pipeline
    const result = await runE2e({
      pipeline,
      producers,
      tenant: run.tenant,
      processes: () => [
        ...stackProcesses,
        // Embedded ClickHouse runs inside the sink's process: its CPU time is that row's.
        ...started
          .processes()
          .map((p) =>
            p.name.startsWith('clickhouse-sink')
              ? { ...p, name: `${p.name} (embedded ClickHouse inside)` }
              : p,
          ),
        ...producerProcesses,
        benchProcess,
      ],
      expectationFor: (failed) => e2eExpectation(run, counts, failed),
    })
    const restarts = pipeline.restarts()
    await producers.stop()
    const deadLetters = await deadLetterCount(brokers, names.topics.deadLetters)
    const { webhookLog, clickhouse } = pipeline
    await pipeline.pipeline.stop()
    pipeline = undefined

    const { expectation, times } = result
    const stored = await readStoredOutcome({ ...clickhouse, tenant: run.tenant, rule: e2eAlertRule })
    const inbox = readInbox(webhookLog)
    const sendFailures = result.reports.reduce((sum, report) => sum + report.failed.length, 0)
    const gate = correctnessGate(
      [
        {
          name: 'ClickHouse, the analysts’ view',
          contract: 'exactly once',
          expected: expectation.stored,
          observed: stored.events,
        },
        {
          name: 'forwarded to the webhook inbox',
          contract: 'at least once',
          expected: expectation.forwarded,
          observed: inbox.forwarded,
        },
        {
          name: `alerts of ${e2eAlertRule} delivered, one per alert id`,
          contract: 'exactly once',
          expected: expectation.alerting,
          observed: alertedEvents(inbox, e2eAlertRule),
        },
        {
          name: `alerts of ${e2eAlertRule} stored in ClickHouse`,
          contract: 'exactly once',
          expected: expectation.alerting,
          observed: stored.alerts,
        },
      ],
      sendFailures,
    )
    const passed = gate.passed && restarts.length === 0 && result.gaveUp === undefined

    console.log(`\ncorrectness gate${passed ? '' : ' FAILED'}:`)
    for (const line of gateLines(gate)) console.log(line)
    const firstError = result.reports.find((report) => report.firstError)?.firstError
    if (firstError) console.log(`  the producers' first send failure: ${firstError}`)
    if (result.gaveUp) console.log(`  the wait gave up: ${result.gaveUp}`)
    for (const line of restarts)
      console.log(`  FAILED restarted during the run (its CPU time is incomplete): ${line}`)
    const disabled = disabledRules(inbox)
    if (disabled.length > 0) {
      console.log(
        `  note: the alerting service disabled ${disabled.join(', ')} for overrunning its time budget ` +
          '(ALERTING_RULE_BUDGET_MS; CPU starvation does that): no alerts of it after that',
      )
    }
    const others = alertCounts(inbox).filter(([what]) => what !== `${e2eAlertRule} raised`)
    console.log(
      `  also: ClickHouse's table holds ${count(stored.tableRows)} rows for them (copies merged by the view: ` +
        `${count(stored.tableRows - stored.events.length)}); dead letters: ${count(deadLetters)}; ` +
        `alert redeliveries: ${count(alertRedeliveries(inbox))}; deliveries refused for their signature: ${count(inbox.rejected)}; ` +
        `other alerts delivered: ${others.length > 0 ? others.map(([what, n]) => `${what} ${count(n)}`).join(', ') : 'none'}`,
    )

    if (!passed || times.queryable === undefined) {
      console.log('\nno throughput figure: the run did not pass the correctness gate')
      console.log(e2eTargetLine({ gatePassed: false, ceilingRecordsPerSecond: ceilingRate }))
      return { passed: false }
    }

    const owed = expectation.stored.length
    // A rate only for the stages every event goes through: the others hold a share of them.
    const stage = (name: string, seconds: number | undefined, stageEvents: number, rate = false) => [
      name,
      seconds === undefined ? 'never' : seconds.toFixed(2),
      count(stageEvents),
      seconds === undefined || !rate ? '' : count(stageEvents / seconds),
    ]
    console.log(
      `\nstages, from the first produce (${producerCount === 1 ? 'one producer' : `${producerCount} producers started together`}):\n`,
    )
    console.log(
      formatTable(
        ['stage', 'done after s', 'events', 'events/s'],
        [
          stage('produced: every event acknowledged by Kafka', times.produced, owed, true),
          stage(
            'queryable in ClickHouse (the analysts’ view, through the query API)',
            times.queryable,
            owed,
            true,
          ),
          stage(
            'forwarded: the refused updates, at the webhook inbox',
            times.forwarded,
            expectation.forwarded.length,
          ),
          stage(`alerted: ${e2eAlertRule}, at the webhook inbox`, times.alerted, expectation.alerting.length),
        ],
      ),
    )
    const eventsPerSecond = owed / times.queryable
    const perProducer = result.reports.map((report) => count(report.acknowledged / report.seconds)).join(', ')
    console.log(
      `\nend to end: ${count(eventsPerSecond)} events/s (${count(owed)} events in ${times.queryable.toFixed(2)} s from the first ` +
        `produce to the last event queryable), ${(eventsPerSecond / ceilingRate).toFixed(2)}x Kafka's producer ceiling ` +
        `(keyed; ${(eventsPerSecond / ceiling.unkeyed.result.total.recordsPerSecond).toFixed(2)}x the tool's unkeyed run); ` +
        `${producerCount === 1 ? 'the producer' : 'each producer'} sent ${perProducer} events/s`,
    )

    const rows = cpuBreakdown({
      processes: processWindows(result.cpu.before, result.cpu.after),
      machineBefore: result.cpu.before.machine,
      machineAfter: result.cpu.after.machine,
      ticksPerSecond,
      events: owed,
    })
    console.log(
      `\nCPU by process over the run (${result.seconds.toFixed(1)} s, until every stage was done), per event and as a ` +
        `share of the machine: where its ${cpus} CPUs went\n`,
    )
    console.log(cpuTable(rows, cpus))
    const producerNames = new Set(producerProcesses.map((p) => p.name))
    const isProducer = (name: string) => producerNames.has(name)
    // Everything measured but the producers and the bench: the stack and what npm start runs.
    const pipelineNames = new Set(
      result.cpu.after.processes
        .map((p) => p.name)
        .filter((name) => !isProducer(name) && name !== benchProcess.name),
    )
    const isPipeline = (name: string) => pipelineNames.has(name)
    console.log(
      `pipeline (services, webhook inbox, broker, registry): ${microsPerEventOf(rows, isPipeline).toFixed(1)} CPU µs/event; ` +
        `producers: ${microsPerEventOf(rows, isProducer).toFixed(1)}; ` +
        `Kafka alone: its broker ${ceiling.keyed.brokerMicrosPerRecord.toFixed(1)} µs/record produced and ` +
        `${ceiling.consumed.brokerMicrosPerRecord.toFixed(1)} consumed`,
    )
    console.log(
      `\n${e2eTargetLine({ gatePassed: true, eventsPerSecond, ceilingRecordsPerSecond: ceilingRate })}`,
    )
    return { passed: true }
  } finally {
    try {
      await producers?.stop()
      await pipeline?.pipeline.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function ceilingRow(name: string, run: CeilingRun): string[] {
  const { total } = run.result
  return [
    name,
    count(total.recordsPerSecond),
    total.megabytesPerSecond.toFixed(1),
    `${total.p99Ms} ms`,
    run.brokerMicrosPerRecord.toFixed(1),
  ]
}

/**
 * The Avro size of the section's events as the SDK sends them (its builder, with the producers'
 * defaults, through the registry's schema), averaged over the first 2,000 of one producer: the
 * record size Kafka's tools send.
 */
async function averageEventBytes(run: E2eRun, registryUrl: string): Promise<number> {
  const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: registryUrl }) })
  const build = createEventBuilder(
    { category: 'business', snapshots: true, ...e2eProducerDefaults(run) },
    { now: Date.now, newEventId: randomUUID },
  )
  const sample = 2_000
  let bytes = 0
  for (let index = 0; index < sample; index++) {
    const plan = e2eEvent(run, 0, index)
    const event = build.updated(plan.object, plan.before, plan.after, plan.context)
    if (!event) throw new Error(`event ${index} of the plan changes nothing`)
    bytes += codec.encode(event).length
  }
  return Math.round(bytes / sample)
}

/** The whole inbox log, read once the pipeline is stopped. */
function readInbox(file: string): InboxTally {
  const tally = createInboxTally()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    // Nothing was delivered: every stage it holds is then short of everything.
  }
  for (const line of text.split('\n')) if (line !== '') addInboxLine(tally, line)
  return tally
}

async function deadLetterCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'bench-e2e', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    return await messageCount(admin, [topic])
  } finally {
    await admin.disconnect()
  }
}

function positive(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const value = env[variable]
  if (value === undefined || value.trim() === '') return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number <= 0) {
    throw new Error(`${variable}: expected a whole number above 0, e.g. ${fallback}; got '${value}'`)
  }
  return number
}
