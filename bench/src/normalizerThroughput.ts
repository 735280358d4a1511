import { availableParallelism, loadavg } from 'node:os'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { fillAuditInput } from './auditInput.js'
import { createBenchTopics } from './benchTopics.js'
import { endOffsets, messageCount } from './committedOffsets.js'
import type { CpuProfileSummary } from './cpuProfile.js'
import { forwardLoop } from './forwardLoop.js'
import type { Measured } from './measured.js'
import { encryptionTopics, normalizerEncryptionRuns } from './normalizerEncryptionCost.js'
import { normalizerRun, type NormalizerRun } from './normalizerRun.js'
import { normalizerStageCosts } from './normalizerStageCosts.js'
import type { ProduceRequests } from './produceRequests.js'
import type { StageCost } from './stageCosts.js'
import { formatTable } from './table.js'

/** What the normalizer must sustain on one instance, with its delivery guarantee. */
/** Events/s, and the share of the plain loop's rate: routing to one topic, and fanning out to two. */
export const normalizerTarget = {
  eventsPerSecond: 40_000,
  vsPlainLoop: { oneTopic: 0.8, fanOut: 0.6 },
} as const

/** What content digests (dedup and conflicts by content, packages/integrity) may cost the normalizer at most. */
export const digestCostTarget = 0.1

/** Runs with and without digests besides the first of each: their cost is a median of three. */
const extraDigestPairs = 2

/** Set by the bench for each run; the other NORMALIZER_* variables of its environment pass through. */
const benchSettings = [
  'NORMALIZER_INPUT_TOPICS',
  'NORMALIZER_INPUT_TOPIC_PATTERN',
  'NORMALIZER_GROUP_ID',
  'NORMALIZER_ROUTES_FILE',
  'NORMALIZER_DEAD_LETTER_TOPIC',
]

type Row = { name: string; events: number; outputs: number; run: Measured & { produce: ProduceRequests } }
/** A normalizer run, with the share of the plain loop it is held to. */
type NormalizerRow = Row & { run: NormalizerRun; vsPlainLoop: number }

/**
 * Normalizer throughput (events/s in to out) against a plain consume-and-forward loop with the
 * same delivery guarantee and no decoding, measured in the same run on the same pre-filled input:
 * the normalizer routing every event to one topic, then to two. When it misses the target, where
 * its time goes: CPU per message of its own steps, and a CPU profile of one more run.
 */
export async function normalizerSection(options: {
  brokers: string[]
  registryUrl: string
  events: number
  env: Record<string, string | undefined>
}): Promise<void> {
  const { brokers, registryUrl, events } = options
  const stamp = Date.now()
  const name = (what: string) => `bench_norm_${what}_${stamp}`
  const topics = {
    input: name('in'),
    warmupInput: name('warmup_in'),
    warmupForwarded: name('warmup_forwarded'),
    warmupOut: name('warmup_out'),
    warmupDeadLetters: name('warmup_dlq'),
    forwarded: name('forwarded'),
    out: name('out'),
    deadLetters: name('dlq'),
    fanOutA: name('fan_out_a'),
    fanOutB: name('fan_out_b'),
    fanOutDeadLetters: name('fan_out_dlq'),
    undigestedOut: name('undigested_out'),
    undigestedDeadLetters: name('undigested_dlq'),
    profiledOut: name('profiled_out'),
    profiledDeadLetters: name('profiled_dlq'),
  }
  const pairTopics = Array.from({ length: extraDigestPairs * 2 }, (_, i) => ({
    out: name(`digest_pair_out_${i}`),
    deadLetters: name(`digest_pair_dlq_${i}`),
  }))
  const overrides = Object.fromEntries(
    Object.entries(options.env).filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith('NORMALIZER_') && !benchSettings.includes(entry[0]) && entry[1] !== undefined,
    ),
  )
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await createBenchTopics(
      admin,
      [
        ...Object.values(topics),
        ...pairTopics.flatMap((pair) => [pair.out, pair.deadLetters]),
        ...encryptionTopics(name),
      ],
      { partitions: 6 },
    )
    const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: registryUrl }) })
    const warmupEvents = 20_000
    await fillAuditInput({ brokers, codec, topic: topics.warmupInput, events: warmupEvents, sampleSize: 0 })
    const input = await fillAuditInput({ brokers, codec, topic: topics.input, events, sampleSize: 20_000 })
    const ends = await endOffsets(admin, topics.input)
    const common = { brokers, registryUrl, admin, overrides }

    console.log(
      `\nnormalizer throughput, ${events} Avro events of ${Math.round(input.valueBytes)} bytes on 6 partitions, ` +
        `broker and registry on this machine (${brokers[0]}, ${availableParallelism()} CPUs, ` +
        `load average ${loadavg()[0]?.toFixed(1)} before the runs)`,
    )
    if (Object.keys(overrides).length > 0) {
      const settings = Object.entries(overrides).map(([key, value]) => `${key}=${value}`)
      console.log(`normalizer settings from the environment: ${settings.join(' ')}`)
    }
    console.log('')

    // Warm the JIT and the broker's log so the first measured run is not penalised.
    const warmupEnds = await endOffsets(admin, topics.warmupInput)
    await forwardLoop({
      brokers,
      admin,
      input: topics.warmupInput,
      ends: warmupEnds,
      output: topics.warmupForwarded,
      groupId: name('warmup_forward'),
    })
    await normalizerRun({
      ...common,
      input: topics.warmupInput,
      ends: warmupEnds,
      outputs: [topics.warmupOut],
      deadLetterTopic: topics.warmupDeadLetters,
      groupId: name('warmup_normalizer'),
    })

    const plain = await forwardLoop({
      brokers,
      admin,
      input: topics.input,
      ends,
      output: topics.forwarded,
      groupId: name('forward'),
    })
    const single = await normalizerRun({
      ...common,
      input: topics.input,
      ends,
      outputs: [topics.out],
      deadLetterTopic: topics.deadLetters,
      groupId: name('normalizer'),
    })
    // The same normalizer with the digest replaced by a constant: what the digest costs.
    const undigested = await normalizerRun({
      ...common,
      input: topics.input,
      ends,
      outputs: [topics.undigestedOut],
      deadLetterTopic: topics.undigestedDeadLetters,
      groupId: name('normalizer_undigested'),
      withoutDigests: true,
    })
    // Two runs differ by several percent on this machine whatever they run: the digest's cost is
    // judged on the medians of three runs each.
    const digested = [single]
    const undigestedRuns = [undigested]
    for (let i = 0; i < extraDigestPairs * 2; i++) {
      // After the first pair (with, without): without, with, with, without (ABBA), so that neither
      // side gains from going later.
      const withoutDigests = i === 0 || i === 3
      const run = await normalizerRun({
        ...common,
        input: topics.input,
        ends,
        outputs: [pairTopics[i]!.out],
        deadLetterTopic: pairTopics[i]!.deadLetters,
        groupId: name(`normalizer_digest_pair_${i}`),
        withoutDigests,
      })
      ;(withoutDigests ? undigestedRuns : digested).push(run)
    }
    const encryption = await normalizerEncryptionRuns({ ...common, input: topics.input, ends, topic: name })
    const fanOut = await normalizerRun({
      ...common,
      input: topics.input,
      ends,
      outputs: [topics.fanOutA, topics.fanOutB],
      deadLetterTopic: topics.fanOutDeadLetters,
      groupId: name('normalizer_fan_out'),
    })

    const baseline: Row = {
      name: 'plain loop: consume, forward bytes, commit (baseline)',
      events,
      outputs: await messageCount(admin, [topics.forwarded]),
      run: plain,
    }
    const normalizerRows: NormalizerRow[] = [
      {
        name: 'normalizer, every event to 1 topic',
        events,
        outputs: await messageCount(admin, [topics.out]),
        run: single,
        vsPlainLoop: normalizerTarget.vsPlainLoop.oneTopic,
      },
      {
        name: 'normalizer, every event to 2 topics (fan-out)',
        events,
        outputs: await messageCount(admin, [topics.fanOutA, topics.fanOutB]),
        run: fanOut,
        vsPlainLoop: normalizerTarget.vsPlainLoop.fanOut,
      },
    ]
    const undigestedRow: Row = {
      name: 'normalizer, every event to 1 topic, no content digests (baseline for their cost)',
      events,
      outputs: await messageCount(admin, [topics.undigestedOut]),
      run: undigested,
    }
    printTable([baseline, ...normalizerRows, undigestedRow], baseline)
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b)
      const middle = Math.floor(sorted.length / 2)
      return sorted.length % 2 === 1
        ? (sorted[middle] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    }
    const seconds = (runs: NormalizerRun[]) => median(runs.map((run) => run.seconds))
    const cpuPerEvent = (runs: NormalizerRun[]) => median(runs.map((run) => run.cpuSeconds / events))
    const cost = 1 - seconds(undigestedRuns) / seconds(digested)
    const eventsPerSecond = (runs: NormalizerRun[]) =>
      runs.map((run) => Math.round(events / run.seconds).toLocaleString('en-US')).join(', ')
    console.log(
      `\ncontent digests cost ${(cost * 100).toFixed(1)}% of the normalizer's throughput ` +
        `(target: at most ${(digestCostTarget * 100).toFixed(0)}%, ${cost <= digestCostTarget ? 'met' : 'MISSED'}; ` +
        `${((cpuPerEvent(digested) - cpuPerEvent(undigestedRuns)) * 1e6).toFixed(1)} CPU µs/event), medians of ` +
        `${digested.length} runs each: with digests ${eventsPerSecond(digested)} events/s, ` +
        `without ${eventsPerSecond(undigestedRuns)}`,
    )

    const sealedCost = 1 - seconds(encryption.dropped) / seconds(encryption.sealed)
    const sealedOverPlain = 1 - seconds(digested) / seconds(encryption.sealed)
    console.log(
      `sealing sensitive values (field-encryption, AES-256-GCM, priority and solution in each event's ` +
        `changes and snapshots) costs ${(sealedCost * 100).toFixed(1)}% of the throughput of dropping them ` +
        `(${((cpuPerEvent(encryption.sealed) - cpuPerEvent(encryption.dropped)) * 1e6).toFixed(1)} CPU µs/event), ` +
        `${(sealedOverPlain * 100).toFixed(1)}% of no sensitive fields at all; medians of 2 runs each: ` +
        `sealed ${eventsPerSecond(encryption.sealed)} events/s, dropped ${eventsPerSecond(encryption.dropped)}`,
    )

    const missed = printTargets(normalizerRows, baseline)
    printSends(baseline, normalizerRows)
    if (!missed) return

    console.log('\nwhere the time goes (a target was missed)')
    await printStageCosts({ messages: input.sample, codec, config: single.config })
    const saveTo = options.env['BENCH_CPU_PROFILE_FILE']
    const profiled = await normalizerRun({
      ...common,
      input: topics.input,
      ends,
      outputs: [topics.profiledOut],
      deadLetterTopic: topics.profiledDeadLetters,
      groupId: name('normalizer_profiled'),
      profile: saveTo ? { saveTo } : {},
    })
    if (profiled.profile) {
      printProfile(
        profiled.profile,
        `${Math.round(events / profiled.seconds).toLocaleString('en-US')} events/s`,
      )
    }
    if (saveTo) {
      console.log(`  the whole profile: ${saveTo} (Chrome DevTools, Performance tab, or speedscope)`)
    }
  } finally {
    await admin.disconnect()
  }
}

function printTable(rows: Row[], baseline: Row): void {
  const rate = (row: Row) => row.events / row.run.seconds
  const header = [
    'run',
    'events/s in→out',
    'messages out',
    'seconds',
    'vs plain loop',
    'CPU µs/event',
    'JS thread busy',
    'machine CPUs busy',
  ]
  const lines = rows.map((row) => [
    row.name,
    Math.round(rate(row)).toLocaleString('en-US'),
    row.outputs.toLocaleString('en-US'),
    row.run.seconds.toFixed(2),
    `${(rate(row) / rate(baseline)).toFixed(2)}x`,
    ((row.run.cpuSeconds / row.events) * 1e6).toFixed(1),
    `${(row.run.eventLoopBusy * 100).toFixed(0)}%`,
    `${(row.run.machineBusy * 100).toFixed(0)}%`,
  ])
  console.log(formatTable(header, lines))
}

/** Prints whether each normalizer run met the target; true when any missed. */
function printTargets(rows: NormalizerRow[], baseline: Row): boolean {
  const rate = (row: Row) => row.events / row.run.seconds
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
  let missed = false
  console.log(
    `\ntarget: >= ${normalizerTarget.eventsPerSecond.toLocaleString('en-US')} events/s, and >= ` +
      `${normalizerTarget.vsPlainLoop.oneTopic.toFixed(2)}x the plain loop to one topic, >= ` +
      `${normalizerTarget.vsPlainLoop.fanOut.toFixed(2)}x with fan-out to two, with the delivery guarantee`,
  )
  for (const row of rows) {
    const fastEnough = rate(row) >= normalizerTarget.eventsPerSecond
    const closeEnough = rate(row) / rate(baseline) >= row.vsPlainLoop
    missed ||= !fastEnough || !closeEnough
    console.log(
      `  ${row.name}: ${Math.round(rate(row)).toLocaleString('en-US')} events/s ${verdict(fastEnough)}, ` +
        `${(rate(row) / rate(baseline)).toFixed(2)}x (>= ${row.vsPlainLoop.toFixed(2)}x) ${verdict(closeEnough)}`,
    )
  }
  return missed
}

/** How long sends took: the producer's requests (all runs) and the normalizer's flushes (its metric). */
function printSends(baseline: Row, rows: (Row & { run: NormalizerRun })[]): void {
  console.log('\nsends (idempotent producer, acks=all, at most one request in flight to the broker):')
  for (const row of [baseline, ...rows]) {
    const { count, inFlightMs, queuedMs } = row.run.produce
    const wallMs = row.run.seconds * 1000
    console.log(
      `  ${row.name}: ${count} produce requests of ${Math.round(row.outputs / count)} messages, ` +
        `one in flight ${((inFlightMs / wallMs) * 100).toFixed(0)}% of the wall time, ` +
        `${(inFlightMs / count).toFixed(1)} ms each, ${(queuedMs / count).toFixed(1)} ms queued before it`,
    )
  }
  for (const row of rows) {
    const { count, totalSeconds } = row.run.flushes
    const partitions = row.run.config.partitionsConsumedConcurrently
    const problems = [
      ...(row.run.consumed !== row.events ? [`counted ${row.run.consumed} consumed`] : []),
      ...(row.run.deadLettered > 0 ? [`${row.run.deadLettered} dead-lettered`] : []),
    ]
    console.log(
      `  ${row.name}: ${count} flushes (send, then commit) of ${Math.round(row.events / count)} events, ` +
        `mean ${((totalSeconds / count) * 1000).toFixed(1)} ms (audit_normalizer_flush_seconds); ` +
        `its ${partitions} partitions spent ${((totalSeconds / (row.run.seconds * partitions)) * 100).toFixed(0)}% ` +
        `of the wall time in a flush${problems.length > 0 ? ` (${problems.join(', ')})` : ''}`,
    )
  }
}

async function printStageCosts(options: Parameters<typeof normalizerStageCosts>[0]): Promise<void> {
  console.log('CPU per message of the normalizer’s own steps, one thread, no Kafka (best of 3 passes):')
  // A GC pause caused by one stage's garbage can land in another's timing: take each stage's best.
  const passes: StageCost[][] = []
  for (let pass = 0; pass < 3; pass++) passes.push(await normalizerStageCosts(options))
  for (const [i, { stage }] of (passes[0] ?? []).entries()) {
    const micros = Math.min(...passes.map((costs) => costs[i]?.microsPerEvent ?? Infinity))
    console.log(`  ${stage.padEnd(44)} ${micros.toFixed(1).padStart(6)} µs`)
  }
  console.log(
    `  at ${normalizerTarget.eventsPerSecond.toLocaleString('en-US')} events/s one event may take ` +
      `${(1e6 / normalizerTarget.eventsPerSecond).toFixed(1)} µs of the one JavaScript thread, Kafka client included`,
  )
}

function printProfile(profile: CpuProfileSummary, rate: string): void {
  const busyMs = profile.totalMs - profile.idleMs
  const share = (ms: number) => `${((ms / busyMs) * 100).toFixed(1)}%`
  console.log(
    `\nCPU profile of one more normalizer run, every event to 1 topic (${rate} while profiled): ` +
      `JS thread busy ${((busyMs / profile.totalMs) * 100).toFixed(0)}% of ${(profile.totalMs / 1000).toFixed(1)} s`,
  )
  const packages = profile.packages.filter((p) => Math.max(p.selfMs, p.withRuntimeMs) / busyMs >= 0.005)
  const table = formatTable(
    ['share of busy time, by package', 'self', 'with the node and V8 code it calls'],
    packages.map((p) => [p.name, share(p.selfMs), share(p.withRuntimeMs)]),
  )
  console.log(table.replace(/^/gm, '  '))
  console.log('  top functions by self time:')
  for (const { name, where, selfMs } of profile.functions.slice(0, 20)) {
    console.log(`    ${share(selfMs).padStart(5)}  ${name}  ${where}`)
  }
}
