import { Kafka, logLevel } from 'kafkajs'
import type { StackState } from '@audit-pipeline/local-stack'
import { createBenchTopics } from './benchTopics.js'
import { fetchKafkaTools, producerPerformance } from './kafkaPerfTools.js'
import {
  rawKafkaThroughput,
  sdkBefore,
  sdkThroughput,
  type SdkSetup,
  type ThroughputRow,
} from './producerThroughput.js'
import { stageCosts } from './stageCosts.js'
import { formatTable } from './table.js'

export const producerTarget = { vsJavaProducer: 0.5 } as const

/** The SDK as the target judges it: from its own sending thread, batches in flight, snapshots on. */
const sdkDefault: SdkSetup = { sendFrom: 'worker', inFlightBatches: 4, snapshots: true }
/** The objects the bench's events update, round robin: Kafka's producer is keyed over as many. */
const objectKeys = 10_000

/**
 * Producer throughput: the SDK set up several ways in the same run (as it was: the caller's
 * thread with one batch in flight; with batches in flight; from its own sending thread; without
 * snapshots), the SDK with JSON as the format baseline, kafkajs alone, and Kafka's own Java
 * producer (ProducerPerformance) with records of the SDK's size, keyed over as many objects: the
 * target's ceiling. Then the SDK's CPU cost per event by stage.
 */
export async function producerSection(options: {
  brokers: string[]
  registryUrl: string
  events: number
  state: StackState
  env: NodeJS.ProcessEnv
}): Promise<void> {
  const { brokers, registryUrl, events } = options
  const names = [
    'bench_json',
    'bench_before',
    'bench_lanes',
    'bench_thread',
    'bench_nosnap',
    'bench_raw',
    'bench_java',
    'bench_warmup',
  ]
  const topics = names.map((t) => `${t}_${Date.now()}`)
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await createBenchTopics(admin, topics, { partitions: 6 })
  } finally {
    await admin.disconnect()
  }
  const [json, before, lanes, thread, noSnapshots, raw, java, warmup] = topics as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]

  console.log(`producer throughput, ${events} events each, broker on this machine (${brokers[0]})\n`)
  const sdk = (name: string, topic: string, setup: SdkSetup, format: 'avro' | 'json' = 'avro') =>
    sdkThroughput({ name, brokers, registryUrl, topic, events, format, setup })
  // Warm the JIT and the broker's log so the first measured run is not penalised.
  await sdkThroughput({
    name: 'warm-up',
    brokers,
    registryUrl,
    topic: warmup,
    events: 20_000,
    format: 'avro',
    setup: sdkDefault,
  })
  const rows: ThroughputRow[] = []
  rows.push(await sdk('SDK, JSON (format baseline)', json, sdkDefault, 'json'))
  rows.push(await sdk('SDK, Avro, caller thread, 1 batch in flight (before)', before, sdkBefore))
  rows.push(
    await sdk('SDK, Avro, caller thread, 4 batches in flight', lanes, { ...sdkDefault, sendFrom: 'caller' }),
  )
  const target = await sdk('SDK, Avro, sending thread, 4 batches in flight', thread, sdkDefault)
  rows.push(target)
  rows.push(
    await sdk('SDK, Avro, sending thread, no snapshots', noSnapshots, { ...sdkDefault, snapshots: false }),
  )
  const recordBytes = target.recordBytes ?? Math.round(target.bytes / target.events)
  rows.push(await rawKafkaThroughput({ brokers, topic: raw, events, valueBytes: recordBytes }))
  const ceiling = await javaProducer(options, java, recordBytes)
  if (ceiling.ok) rows.push(ceiling.row)
  printTable(rows, rows[0]!, ceiling.ok ? ceiling.row : undefined)
  printTarget(target, rows[1]!, ceiling)

  console.log('\nCPU per event before Kafka, one thread, no I/O:')
  stageCosts(50_000) // warm-up
  for (const { stage, microsPerEvent } of stageCosts(50_000)) {
    console.log(`  ${stage.padEnd(40)} ${microsPerEvent.toFixed(1).padStart(6)} µs`)
  }
}

type Ceiling = { ok: true; row: ThroughputRow } | { ok: false; why: string }

/** Kafka's Java producer on the broker's own JDK: records of the SDK's size, keyed, acks=all. */
async function javaProducer(
  options: { brokers: string[]; events: number; state: StackState; env: NodeJS.ProcessEnv },
  topic: string,
  recordBytes: number,
): Promise<Ceiling> {
  const broker = options.state.kafka.nodes?.[0]
  const javaCommand = broker?.launch?.command
  if (broker === undefined || javaCommand === undefined) {
    return {
      ok: false,
      why: 'the bench was given another broker (KAFKA_BROKERS): its JDK is not this machine’s to run',
    }
  }
  try {
    const tools = await fetchKafkaTools({ java: javaCommand, version: broker.version, env: options.env })
    const result = await producerPerformance(tools, {
      brokers: options.brokers,
      topic,
      records: options.events,
      recordSize: recordBytes,
      keys: objectKeys,
    })
    const { records, recordsPerSecond } = result.total
    return {
      ok: true,
      row: {
        name: `Kafka's Java producer (ProducerPerformance ${tools.version}), same size, keyed`,
        events: records,
        seconds: records / recordsPerSecond,
        bytes: records * recordBytes,
        recordBytes,
      },
    }
  } catch (error) {
    return { ok: false, why: (error as Error).message.split('\n')[0] ?? String(error) }
  }
}

function printTable(rows: ThroughputRow[], baseline: ThroughputRow, java: ThroughputRow | undefined): void {
  const rate = (r: ThroughputRow) => r.events / r.seconds
  const header = ['run', 'events/s', 'MB/s (JSON size)', 'seconds', 'vs JSON baseline', 'vs Java producer']
  const lines = rows.map((r) => [
    r.name,
    Math.round(rate(r)).toLocaleString('en-US'),
    r === java ? '' : (r.bytes / r.seconds / 1e6).toFixed(1),
    r.seconds.toFixed(2),
    `${(rate(r) / rate(baseline)).toFixed(2)}x`,
    java ? `${(rate(r) / rate(java)).toFixed(2)}x` : '',
  ])
  console.log(formatTable(header, lines))
}

function printTarget(sdk: ThroughputRow, before: ThroughputRow, ceiling: Ceiling): void {
  const rate = (r: ThroughputRow) => r.events / r.seconds
  const line = `\ntarget: producer SDK at least ${producerTarget.vsJavaProducer}x Kafka's Java producer for the same records`
  if (!ceiling.ok) {
    console.log(`${line}: not measured (${ceiling.why})`)
    return
  }
  const ratio = rate(sdk) / rate(ceiling.row)
  console.log(
    `${line}: ${ratio >= producerTarget.vsJavaProducer ? 'met' : 'MISSED'} (${ratio.toFixed(2)}x: ` +
      `${Math.round(rate(sdk)).toLocaleString('en-US')} against ${Math.round(rate(ceiling.row)).toLocaleString('en-US')} ` +
      `records/s of ${sdk.recordBytes} bytes; ${(rate(sdk) / rate(before)).toFixed(2)}x the SDK before)`,
  )
}
