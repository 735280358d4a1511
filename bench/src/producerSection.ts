import { Kafka, logLevel } from 'kafkajs'
import { createBenchTopics } from './benchTopics.js'
import { rawKafkaThroughput, sdkThroughput, type ThroughputRow } from './producerThroughput.js'
import { stageCosts } from './stageCosts.js'
import { formatTable } from './table.js'

/**
 * Producer throughput: the SDK with Avro against the SDK with JSON (the baseline) in the same run,
 * kafkajs alone as the ceiling, then the SDK's CPU cost per event by stage.
 */
export async function producerSection(options: {
  brokers: string[]
  registryUrl: string
  events: number
}): Promise<void> {
  const { brokers, registryUrl, events } = options
  const topics = ['bench_json', 'bench_avro', 'bench_raw', 'bench_warmup'].map((t) => `${t}_${Date.now()}`)
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await createBenchTopics(admin, topics, { partitions: 6 })
  } finally {
    await admin.disconnect()
  }
  const [jsonTopic, avroTopic, rawTopic, warmupTopic] = topics as [string, string, string, string]

  console.log(`producer throughput, ${events} events each, broker on this machine (${brokers[0]})\n`)
  // Warm the JIT and the broker's log so the first measured run is not penalised.
  await sdkThroughput({
    name: 'warm-up',
    brokers,
    registryUrl,
    topic: warmupTopic,
    events: 20_000,
    format: 'avro',
  })
  const json = await sdkThroughput({
    name: 'SDK, JSON (baseline)',
    brokers,
    registryUrl,
    topic: jsonTopic,
    events,
    format: 'json',
  })
  const avro = await sdkThroughput({
    name: 'SDK, Avro',
    brokers,
    registryUrl,
    topic: avroTopic,
    events,
    format: 'avro',
  })
  const raw = await rawKafkaThroughput({
    brokers,
    topic: rawTopic,
    events,
    valueBytes: Math.round(avro.bytes / avro.events),
  })
  printTable([json, avro, raw], json)

  console.log('\nCPU per event before Kafka, one thread, no I/O:')
  stageCosts(50_000) // warm-up
  for (const { stage, microsPerEvent } of stageCosts(50_000)) {
    console.log(`  ${stage.padEnd(40)} ${microsPerEvent.toFixed(1).padStart(6)} µs`)
  }
}

function printTable(rows: ThroughputRow[], baseline: ThroughputRow): void {
  const rate = (r: ThroughputRow) => r.events / r.seconds
  const header = ['run', 'events/s', 'MB/s (JSON size)', 'seconds', 'vs JSON baseline']
  const lines = rows.map((r) => [
    r.name,
    Math.round(rate(r)).toLocaleString('en-US'),
    (r.bytes / r.seconds / 1e6).toFixed(1),
    r.seconds.toFixed(2),
    `${(rate(r) / rate(baseline)).toFixed(2)}x`,
  ])
  console.log(formatTable(header, lines))
}
