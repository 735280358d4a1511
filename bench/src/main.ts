import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { startStack } from '@audit-pipeline/local-stack'
import { rawKafkaThroughput, sdkThroughput, type ThroughputRow } from './producerThroughput.js'
import { stageCosts } from './stageCosts.js'

/**
 * `npm run bench`: producer throughput on a local stack of its own (broker on the same machine),
 * Avro against the JSON baseline in the same run. BENCH_EVENTS sets the event count.
 */
const events = Number(process.env['BENCH_EVENTS'] ?? 200_000)
const stateDir = mkdtempSync(join(tmpdir(), 'audit-bench-stack-'))
const stack = await startStack({ env: process.env, stateDir, ownerPid: process.pid })
try {
  const brokers = stack.state.kafka.brokers
  const registryUrl = stack.state.schemaRegistry.url
  const topics = ['bench_json', 'bench_avro', 'bench_raw', 'bench_warmup'].map((t) => `${t}_${Date.now()}`)
  const admin = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 6 })),
    waitForLeaders: true,
  })
  await admin.disconnect()
  const [jsonTopic, avroTopic, rawTopic, warmupTopic] = topics as [string, string, string, string]

  console.log(
    `producer throughput, ${events} events each, broker on this machine (${stack.state.kafka.brokers[0]})\n`,
  )
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
} finally {
  await stack.stop()
  rmSync(stateDir, { recursive: true, force: true })
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
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  console.log(format(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const line of lines) console.log(format(line))
}
