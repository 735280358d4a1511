import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { runMigrations } from '@audit-pipeline/clickhouse-schema'
import type { SinkConfig } from '@audit-pipeline/clickhouse-sink'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { openStorage, type Storage } from '@audit-pipeline/storage'
import { createBenchTopics } from './benchTopics.js'
import { endOffsets } from './committedOffsets.js'
import { cpuProfiled, type CpuProfileSummary } from './cpuProfile.js'
import {
  kafkaEngineBuild,
  kafkaEngineError,
  kafkaEngineReading,
  startKafkaEngine,
  stopKafkaEngine,
  type KafkaEngineSettings,
} from './kafkaEnginePeer.js'
import { measured, type Measured } from './measured.js'
import { fillSinkInput, type FilledSinkInput } from './sinkInput.js'
import { percentile, produceToQueryable, type LatencyRun } from './sinkLatency.js'
import { runSinkProcess, type SinkProcessRun } from './sinkProcess.js'
import {
  benchSinkConfig,
  createBenchSink,
  eventsTableOf,
  sinkDiagnosis,
  sinkOverrides,
  type SinkFigures,
} from './sinkRun.js'
import { sinkStageCosts } from './sinkStageCosts.js'
import type { StageCost } from './stageCosts.js'
import { differingColumns, waitForMerges, waitForRows, type RowsReached } from './storedRows.js'
import { formatTable } from './table.js'

/** What the sink must do on one instance (the issues' "Done when"; the ratio to the Kafka engine is issue 18's). */
export const sinkTarget = {
  eventsPerSecond: 50_000,
  vsKafkaEngine: 1.0,
  latency: { eventsPerSecond: 10_000, seconds: 15, p99Ms: 2_000 },
  memory: { backlog: 1_000_000, maxRssBytes: 1024 ** 3 },
} as const

type Run = Measured & RowsReached & { events: number }
type PeerOutcome = { ok: true; run: Run; settings: KafkaEngineSettings } | { ok: false; error: string }

const partitions = 6
const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`
const perSecond = (events: number, seconds: number) => Math.round(events / seconds).toLocaleString('en-US')
const verdict = (met: boolean) => (met ? 'MET' : 'MISSED')

/**
 * The ClickHouse sink, from a pre-filled topic to queryable rows in embedded ClickHouse (chDB),
 * against ClickHouse's own Kafka table engine reading the same topic into the same table in the
 * same run; then produce-to-queryable latency at a steady rate, and the sink's memory as its own
 * process on a large backlog. When a target is missed, where the time goes.
 */
export async function sinkSection(options: {
  brokers: string[]
  registryUrl: string
  events: number
  backlog: number
  env: Record<string, string | undefined>
  cpuProfileFile?: string
}): Promise<void> {
  const { brokers, registryUrl, events, backlog } = options
  const stamp = Date.now()
  const name = (what: string) => `bench_sink_${what}_${stamp}`
  const topics = {
    input: name('in'),
    warmupInput: name('warmup_in'),
    backlog: name('backlog'),
    deadLetters: name('dlq'),
  }
  const databases = {
    warmup: name('warmup'),
    peer: name('peer'),
    sink: name('sink'),
    profiled: name('profiled'),
    process: name('process'),
  }
  const overrides = sinkOverrides(options.env)
  const dataPath = mkdtempSync(join(tmpdir(), 'audit-bench-chdb-'))
  const processDataPath = mkdtempSync(join(tmpdir(), 'audit-bench-chdb-process-'))
  const storages: Storage[] = []
  const open = async (database: string) => {
    const storage = await openStorage({ kind: 'embedded', dataPath, database })
    storages.push(storage)
    await storage.ensureDatabase(database)
    return storage
  }
  const configFor = (database: string, groupId: string, topic = topics.input) =>
    benchSinkConfig({
      brokers,
      registryUrl,
      dataPath,
      database,
      topic,
      groupId,
      deadLetterTopic: topics.deadLetters,
      overrides,
    })
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    // kafkajs's own wait for leaders can fail with an unhandled UNKNOWN_TOPIC_OR_PARTITION on a
    // KRaft broker; create without it, then createBenchTopics (the topics exist) waits properly.
    const all = Object.values(topics)
    await admin.createTopics({
      topics: all.map((topic) => ({ topic, numPartitions: partitions })),
      waitForLeaders: false,
    })
    await createBenchTopics(admin, all, { partitions })
    const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: registryUrl }) })
    await fillSinkInput({ brokers, codec, topic: topics.warmupInput, events: 20_000 })
    const input = await fillSinkInput({ brokers, codec, topic: topics.input, events, sampleSize: 20_000 })

    const warmupStorage = await open(databases.warmup)
    const build = await kafkaEngineBuild(warmupStorage)
    console.log(
      `\nClickHouse sink throughput, ${events} Avro events of ${Math.round(input.valueBytes)} bytes on ${partitions} ` +
        `partitions to queryable rows in embedded ClickHouse ${build.version} (chDB, a temporary data folder), ` +
        `broker and registry on this machine (${brokers[0]}, ${availableParallelism()} CPUs, ` +
        `load average ${loadavg()[0]?.toFixed(1)} before the runs)`,
    )
    if (Object.keys(overrides).length > 0) {
      const settings = Object.entries(overrides).map(([key, value]) => `${key}=${value}`)
      console.log(`sink settings from the environment: ${settings.join(' ')}`)
    }

    // Warm the JIT, the codec's schema cache and ClickHouse's insert path.
    await sinkRun(warmupStorage, configFor(databases.warmup, name('warmup'), topics.warmupInput), 20_000)

    const peerStorage = await open(databases.peer)
    const peerConfig = configFor(databases.peer, name('peer'))
    const peer = await peerRun(peerStorage, peerConfig, {
      brokers,
      topic: topics.input,
      groupId: name('kafka_engine'),
      registryUrl,
      consumers: Math.min(availableParallelism(), partitions),
      maxBlockRows: peerConfig.batch.maxRows,
      flushIntervalMs: peerConfig.batch.maxAgeMs,
      events,
      available: build.kafkaEngine,
    })
    await waitForMerges(warmupStorage)

    const sinkStorage = await open(databases.sink)
    const sinkConfig = configFor(databases.sink, name('sink'))
    const running = await createBenchSink(sinkConfig, sinkStorage)
    let sink: Run
    let figures: SinkFigures
    let latency: LatencyRun
    let latencyFigures: SinkFigures
    let belowCapacity: { latency: LatencyRun; figures: SinkFigures } | undefined
    let sameRows: Awaited<ReturnType<typeof differingColumns>> | undefined
    try {
      let reached: RowsReached | undefined
      const times = await measured(async () => {
        const since = performance.now()
        await running.sink.start()
        reached = await waitForRows(sinkStorage, eventsTableOf(sinkStorage), events, {
          since,
          reading: running.reading,
          diagnose: sinkDiagnosis(running.sink),
        })
      })
      if (!reached) throw new Error('unreachable: the run ended without its rows')
      sink = { ...times, ...reached, events }
      figures = await running.figures()
      if (peer.ok) sameRows = await differingColumns(sinkStorage, databases.sink, databases.peer)

      // The sink has caught up: now a steady rate, and how long each event takes to be queryable.
      latency = await produceToQueryable({
        storage: sinkStorage,
        table: eventsTableOf(sinkStorage),
        topic: topics.input,
        startOffsets: await endOffsets(admin, topics.input),
        produce: {
          brokers,
          registryUrl,
          eventsPerSecond: sinkTarget.latency.eventsPerSecond,
          seconds: sinkTarget.latency.seconds,
          tickMs: 100,
        },
      })
      latencyFigures = difference(await running.figures(), figures)

      // When the sink cannot keep up with the target rate, its latency is queueing: once more at
      // half the rate it sustained, for the latency of batching and inserting alone.
      const sustained = events / sink.seconds
      if (sustained < sinkTarget.latency.eventsPerSecond * 1.2) {
        const before = await running.figures()
        const halfRate = Math.max(1_000, Math.floor(sustained / 2 / 100) * 100)
        const slower = await produceToQueryable({
          storage: sinkStorage,
          table: eventsTableOf(sinkStorage),
          topic: topics.input,
          startOffsets: await endOffsets(admin, topics.input),
          produce: {
            brokers,
            registryUrl,
            eventsPerSecond: halfRate,
            seconds: sinkTarget.latency.seconds,
            tickMs: 100,
          },
        })
        belowCapacity = { latency: slower, figures: difference(await running.figures(), before) }
      }
    } finally {
      await running.sink.stop()
    }

    printThroughput(peer, sink)
    printRowCheck(peer, sameRows)
    printSinkFigures(sink, figures, sinkConfig)
    printLatency('at the target rate', latency, latencyFigures, sinkConfig)
    if (belowCapacity) {
      printLatency(
        'at half the rate the sink sustained (no target: latency without queueing)',
        belowCapacity.latency,
        belowCapacity.figures,
        sinkConfig,
      )
    }

    // Memory: the sink as deployed, its own process and data folder, on a backlog.
    const filled = await fillSinkInput({
      brokers,
      codec,
      topic: topics.backlog,
      events: backlog,
      sendsInFlight: 6,
    })
    const memory = await runSinkProcess({
      brokers,
      registryUrl,
      dataPath: processDataPath,
      database: databases.process,
      topic: topics.backlog,
      groupId: name('process'),
      deadLetterTopic: topics.deadLetters,
      events: backlog,
      overrides,
    })
    printMemory(memory, filled, sink)

    const throughputMissed = printTargets(peer, sink, latency, memory)
    if (!throughputMissed) return
    console.log('\nwhere the time goes (a throughput target was missed)')
    await printStageCosts({
      messages: input.sample,
      codec,
      storage: warmupStorage,
      table: eventsTableOf(warmupStorage),
      batchRows: sinkConfig.batch.maxRows,
    })
    await waitForMerges(warmupStorage)
    const profiledStorage = await open(databases.profiled)
    const profiled = await cpuProfiled(
      () =>
        sinkRun(profiledStorage, configFor(databases.profiled, name('profiled')), events, { atLeast: true }),
      options.cpuProfileFile ? { saveTo: options.cpuProfileFile } : {},
    )
    printProfile(profiled.profile, `${perSecond(profiled.result.rows, profiled.result.seconds)} events/s`)
    if (options.cpuProfileFile) {
      console.log(
        `  the whole profile: ${options.cpuProfileFile} (Chrome DevTools, Performance tab, or speedscope)`,
      )
    }
  } finally {
    for (const storage of storages) await storage.close()
    await admin.disconnect()
    rmSync(dataPath, { recursive: true, force: true })
    rmSync(processDataPath, { recursive: true, force: true })
  }
}

/**
 * The sink in this process on `config`'s topic, from `start()` until `events` rows are queryable
 * (with `atLeast`, that many or more: the topic may hold more).
 */
async function sinkRun(
  storage: Storage,
  config: SinkConfig,
  events: number,
  options: { atLeast?: boolean } = {},
): Promise<Run> {
  const running = await createBenchSink(config, storage)
  try {
    let reached: RowsReached | undefined
    const times = await measured(async () => {
      const since = performance.now()
      await running.sink.start()
      reached = await waitForRows(storage, eventsTableOf(storage), events, {
        since,
        ...options,
        reading: running.reading,
        diagnose: sinkDiagnosis(running.sink),
      })
    })
    if (!reached) throw new Error('unreachable: the run ended without its rows')
    return { ...times, ...reached, events: reached.rows }
  } finally {
    await running.sink.stop()
  }
}

/**
 * ClickHouse's Kafka engine into the same table (the sink's migrations, in a database of its
 * own), timed from creating the engine's tables until `events` rows are queryable. When this
 * ClickHouse cannot run it, the error it gave instead.
 */
async function peerRun(
  storage: Storage,
  config: SinkConfig,
  options: KafkaEngineSettings & { events: number; available: boolean },
): Promise<PeerOutcome> {
  const { events, available, ...settings } = options
  const database = storage.describe().database
  if (!available) return { ok: false, error: 'no Kafka table engine in this build (system.table_engines)' }
  await runMigrations(storage, { database, retention: config.retention })
  try {
    let reached: RowsReached | undefined
    const times = await measured(async () => {
      const since = performance.now()
      await startKafkaEngine(storage, database, settings)
      reached = await waitForRows(storage, eventsTableOf(storage), events, {
        since,
        stallMs: 30_000,
        reading: () => kafkaEngineReading(storage, database),
        diagnose: () => kafkaEngineError(storage, database),
      })
    })
    if (!reached) throw new Error('unreachable: the run ended without its rows')
    return { ok: true, run: { ...times, ...reached, events }, settings }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  } finally {
    await stopKafkaEngine(storage, database)
  }
}

function difference(after: SinkFigures, before: SinkFigures): SinkFigures {
  return {
    rowsInserted: after.rowsInserted - before.rowsInserted,
    batches: after.batches - before.batches,
    insertSeconds: after.insertSeconds - before.insertSeconds,
    backpressureSeconds: after.backpressureSeconds - before.backpressureSeconds,
    deadLettered: after.deadLettered - before.deadLettered,
    retries: after.retries - before.retries,
  }
}

/** Events per second from the first message read to the last row queryable: the rate once started. */
function readingRate(run: Run): number {
  return run.events / (run.seconds - run.firstReadMs / 1000)
}

/** A latency in ms, or how long it was not queryable for. */
function milliseconds(value: number, latency: LatencyRun): string {
  return Number.isFinite(value)
    ? `${value.toFixed(0)} ms`
    : `> ${latency.drainTimeoutMs / 1000} s after the last send`
}

function printThroughput(peer: PeerOutcome, sink: Run): void {
  const rate = (run: Run) => run.events / run.seconds
  const header = [
    'run',
    'events/s start→queryable',
    'seconds',
    'reading after',
    'first rows after',
    'events/s once reading',
    'vs Kafka engine',
    'once reading',
    'CPU µs/event',
    'JS thread busy',
    'machine CPUs busy',
  ]
  const line = (name: string, run: Run, ratios: [string, string]) => [
    name,
    perSecond(run.events, run.seconds),
    run.seconds.toFixed(2),
    `${(run.firstReadMs / 1000).toFixed(1)} s`,
    `${(run.firstRowsMs / 1000).toFixed(1)} s`,
    Math.round(readingRate(run)).toLocaleString('en-US'),
    ...ratios,
    ((run.cpuSeconds / run.events) * 1e6).toFixed(1),
    `${(run.eventLoopBusy * 100).toFixed(0)}%`,
    `${(run.machineBusy * 100).toFixed(0)}%`,
  ]
  const peerName = 'ClickHouse Kafka engine, AvroConfluent → materialized view (peer)'
  const rows = peer.ok
    ? [
        line(peerName, peer.run, ['1.00x', '1.00x']),
        line('sink, in process', sink, [
          `${(rate(sink) / rate(peer.run)).toFixed(2)}x`,
          `${(readingRate(sink) / readingRate(peer.run)).toFixed(2)}x`,
        ]),
      ]
    : [
        [peerName, 'not available', '', '', '', '', '', '', '', '', ''],
        line('sink, in process', sink, ['n/a', 'n/a']),
      ]
  console.log('')
  console.log(formatTable(header, rows))
  if (peer.ok) {
    const s = peer.settings
    console.log(
      `peer settings: kafka_num_consumers=${s.consumers} kafka_thread_per_consumer=1 ` +
        `kafka_max_block_size=${s.maxBlockRows} kafka_flush_interval_ms=${s.flushIntervalMs} ` +
        `(the sink's batch rows and age). Both timed from start until SELECT count() = ${sink.events}, ` +
        `polled every 100 ms; "reading after": the first message read (the peer: system.kafka_consumers; ` +
        `the sink: the first batch kafkajs hands it), so "once reading" leaves out joining the group; ` +
        `CPU includes ClickHouse's threads (same process)`,
    )
  } else {
    console.log(`peer: ClickHouse's Kafka engine did not run here: ${peer.error}`)
    console.log('  the ratio is not measurable in this run')
  }
}

function printRowCheck(
  peer: PeerOutcome,
  same: Awaited<ReturnType<typeof differingColumns>> | undefined,
): void {
  if (!peer.ok || !same) return
  console.log(
    same.differ.length === 0
      ? `rows: the peer's ${same.columns.length} columns hold the same values as the sink's (per-column checksums)`
      : `rows: the peer's rows differ from the sink's in ${same.differ.join(', ')} (per-column checksums)`,
  )
}

function printSinkFigures(sink: Run, figures: SinkFigures, config: SinkConfig): void {
  const problems = [
    ...(figures.deadLettered > 0 ? [`${figures.deadLettered} dead-lettered`] : []),
    ...(figures.retries > 0 ? [`${figures.retries} ClickHouse retries`] : []),
  ]
  console.log(
    `sink: ${figures.batches} batches of ${Math.round(figures.rowsInserted / Math.max(1, figures.batches))} rows ` +
      `(SINK_BATCH_MAX_ROWS=${config.batch.maxRows}), writing one at a time ` +
      `${((figures.insertSeconds / sink.seconds) * 100).toFixed(0)}% of the wall time ` +
      `(audit_sink_insert_duration_seconds: insert + commit, mean ` +
      `${((figures.insertSeconds / Math.max(1, figures.batches)) * 1000).toFixed(0)} ms); partitions waited ` +
      `${figures.backpressureSeconds.toFixed(1)} s for a batch to be written (summed over ` +
      `${config.partitionsConsumedConcurrently} partitions)${problems.length > 0 ? `; ${problems.join(', ')}` : ''}`,
  )
}

/** Prints each target with MET or MISSED; true when a throughput target was missed. */
function printTargets(peer: PeerOutcome, sink: Run, latency: LatencyRun, memory: SinkProcessRun): boolean {
  const rate = sink.events / sink.seconds
  const fastEnough = rate >= sinkTarget.eventsPerSecond
  const p99 = percentile(latency.latenciesMs, 99)
  console.log(
    `\ntargets: >= ${sinkTarget.eventsPerSecond.toLocaleString('en-US')} events/s sustained and >= ` +
      `${sinkTarget.vsKafkaEngine.toFixed(2)}x the Kafka engine; p99 produce-to-queryable < ` +
      `${sinkTarget.latency.p99Ms / 1000} s at ${sinkTarget.latency.eventsPerSecond.toLocaleString('en-US')} ` +
      `events/s; RSS < ${mib(sinkTarget.memory.maxRssBytes)} with a backlog of ` +
      `${sinkTarget.memory.backlog.toLocaleString('en-US')} events`,
  )
  console.log(`  sink throughput: ${perSecond(sink.events, sink.seconds)} events/s ${verdict(fastEnough)}`)
  let closeEnough = true
  if (peer.ok) {
    const ratio = rate / (peer.run.events / peer.run.seconds)
    const steadyRatio = readingRate(sink) / readingRate(peer.run)
    closeEnough = ratio >= sinkTarget.vsKafkaEngine && steadyRatio >= sinkTarget.vsKafkaEngine
    console.log(
      `  vs the Kafka engine: ${ratio.toFixed(3)}x start→queryable ${verdict(ratio >= sinkTarget.vsKafkaEngine)}; ` +
        `${steadyRatio.toFixed(3)}x once reading (group join aside) ` +
        `${verdict(steadyRatio >= sinkTarget.vsKafkaEngine)}`,
    )
  } else {
    console.log('  vs the Kafka engine: not measurable here (the peer did not run, see above)')
  }
  const producedRate = latency.produced.sent / latency.produced.seconds
  console.log(
    `  p99 produce-to-queryable: ${milliseconds(p99, latency)} ${verdict(p99 < sinkTarget.latency.p99Ms)}` +
      (producedRate < sinkTarget.latency.eventsPerSecond * 0.95
        ? ` (but produced at only ${perSecond(latency.produced.sent, latency.produced.seconds)} events/s)`
        : ''),
  )
  const smallBacklog = memory.events < sinkTarget.memory.backlog
  console.log(
    `  sink process RSS: peak ${mib(memory.highWaterMarkBytes)} ` +
      `${verdict(memory.highWaterMarkBytes < sinkTarget.memory.maxRssBytes)}` +
      (smallBacklog
        ? ` (with a backlog of ${memory.events.toLocaleString('en-US')}, not the target's ` +
          `${sinkTarget.memory.backlog.toLocaleString('en-US')})`
        : ''),
  )
  return !fastEnough || !closeEnough
}

function printLatency(title: string, latency: LatencyRun, figures: SinkFigures, config: SinkConfig): void {
  const { produced, latenciesMs } = latency
  const ms = (p: number) => milliseconds(percentile(latenciesMs, p), latency)
  console.log(
    `\nproduce-to-queryable ${title}, the sink caught up, ${perSecond(produced.sent, produced.seconds)} events/s for ` +
      `${produced.seconds.toFixed(1)} s (a batch every 100 ms from a worker thread, ${produced.lateTicks} of ` +
      `${produced.ticks} ticks late), the table polled every ${latency.pollMs} ms ` +
      `(a query took ${latency.meanPollQueryMs.toFixed(0)} ms on average):`,
  )
  console.log(
    `  ${latenciesMs.length.toLocaleString('en-US')} events: p50 ${ms(50)}, p90 ${ms(90)}, p99 ${ms(99)}, ` +
      `max ${ms(100)}; min ${ms(0)}` +
      (latency.missing > 0
        ? `; ${latency.missing} not queryable ${latency.drainTimeoutMs / 1000} s after the last send`
        : ''),
  )
  console.log(
    `  the sink wrote ${figures.batches} batches of ${Math.round(figures.rowsInserted / Math.max(1, figures.batches))} ` +
      `rows, mean insert + commit ${((figures.insertSeconds / Math.max(1, figures.batches)) * 1000).toFixed(0)} ms; ` +
      `a batch closes at SINK_BATCH_MAX_AGE_MS=${config.batch.maxAgeMs} (checked every ` +
      `${Math.max(10, Math.min(250, Math.floor(config.batch.maxAgeMs / 4)))} ms) at this rate`,
  )
}

async function printStageCosts(options: Parameters<typeof sinkStageCosts>[0]): Promise<void> {
  console.log(
    `time per message of the sink's steps, ${options.messages.length} messages, no Kafka (best of 3 passes):`,
  )
  // A GC pause caused by one stage's garbage can land in another's timing: take each stage's best.
  const passes: StageCost[][] = []
  for (let pass = 0; pass < 3; pass++) passes.push(await sinkStageCosts(options))
  let total = 0
  for (const [i, { stage }] of (passes[0] ?? []).entries()) {
    const micros = Math.min(...passes.map((costs) => costs[i]?.microsPerEvent ?? Infinity))
    if (i !== 2) total += micros // serialising is inside the insert's wall time
    console.log(`  ${stage.padEnd(48)} ${micros.toFixed(1).padStart(6)} µs`)
  }
  console.log(
    `  decode + eventRow + insert: ${total.toFixed(1)} µs, at most ${perSecond(1, total / 1e6)} events/s done one ` +
      `after the other; at ${sinkTarget.eventsPerSecond.toLocaleString('en-US')} events/s one event may take ` +
      `${(1e6 / sinkTarget.eventsPerSecond).toFixed(1)} µs`,
  )
}

function printProfile(profile: CpuProfileSummary, rate: string): void {
  const busyMs = profile.totalMs - profile.idleMs
  const share = (ms: number) => `${((ms / busyMs) * 100).toFixed(1)}%`
  console.log(
    `\nCPU profile of the JavaScript thread in one more sink run (${rate} while profiled): busy ` +
      `${((busyMs / profile.totalMs) * 100).toFixed(0)}% of ${(profile.totalMs / 1000).toFixed(1)} s ` +
      `(ClickHouse's own threads are not in it)`,
  )
  const packages = profile.packages.filter((p) => Math.max(p.selfMs, p.withRuntimeMs) / busyMs >= 0.005)
  const table = formatTable(
    ['share of busy time, by package', 'self', 'with the node and V8 code it calls'],
    packages.map((p) => [p.name, share(p.selfMs), share(p.withRuntimeMs)]),
  )
  console.log(table.replace(/^/gm, '  '))
  console.log('  top functions by self time:')
  for (const { name, where, selfMs } of profile.functions.slice(0, 15)) {
    console.log(`    ${share(selfMs).padStart(5)}  ${name}  ${where}`)
  }
}

function printMemory(memory: SinkProcessRun, filled: FilledSinkInput, sink: Run): void {
  const underTarget = memory.highWaterMarkBytes < sinkTarget.memory.maxRssBytes
  console.log(
    `\nmemory: the sink as its own process (bin/audit-clickhouse-sink.js, pid ${memory.pid}, its own chDB folder) ` +
      `on a backlog of ${memory.events.toLocaleString('en-US')} events ` +
      `(produced in ${filled.seconds.toFixed(1)} s, ${perSecond(filled.events, filled.seconds)} events/s, not timed):`,
  )
  console.log(
    `  RSS: ${mib(memory.readyRssBytes)} when ready, peak ${mib(memory.peakRss.bytes)} sampled every ` +
      `${memory.sampleMs} ms (${memory.samples} samples, at ${memory.peakRss.rowsInserted.toLocaleString('en-US')} ` +
      `rows written: V8 heap ${mib(memory.peakRss.heapBytes)} (${mib(memory.peakRss.heapUsedBytes)} in use), Buffers ${mib(memory.peakRss.externalBytes)}, ` +
      `native (chDB, code, allocator) ${mib(memory.peakRss.bytes - memory.peakRss.heapBytes - memory.peakRss.externalBytes)}), ` +
      `kernel high-water mark (VmHWM) ${mib(memory.highWaterMarkBytes)}: ` +
      `< ${mib(sinkTarget.memory.maxRssBytes)} ${verdict(underTarget)}` +
      (memory.events < sinkTarget.memory.backlog ? ' (a smaller backlog than the target names)' : ''),
  )
  console.log(
    `  peak RSS in each quarter of the backlog written: ${memory.peakRssByQuarter.map(mib).join(', ')}; ` +
      `largest V8 heap ${mib(memory.peakHeapBytes)}`,
  )
  console.log(
    `  wrote ${memory.events.toLocaleString('en-US')} rows in ${memory.seconds.toFixed(1)} s after ready ` +
      `(${memory.startupSeconds.toFixed(1)} s to start): ${perSecond(memory.events, memory.seconds)} events/s ` +
      `(${((memory.events / memory.seconds / (sink.events / sink.seconds)) * 100).toFixed(0)}% of the in-process ` +
      `run's); ${memory.batches} batches, writing ${((memory.insertSeconds / memory.seconds) * 100).toFixed(0)}% ` +
      `of the time; stopped by SIGTERM in ${memory.exit.stopSeconds.toFixed(1)} s ` +
      `(exit ${memory.exit.signal ?? memory.exit.code})`,
  )
}
