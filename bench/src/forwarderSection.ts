import { availableParallelism, hostname, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { Agent, request } from 'node:http'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import {
  createForwarder,
  createForwarderMetrics,
  loadForwarderConfig,
  parseDestinations,
} from '@audit-pipeline/forwarder'
import { createLogger } from '@audit-pipeline/service-runtime'
import { createBenchTopics } from './benchTopics.js'
import { cpuProfiled, type CpuProfileSummary } from './cpuProfile.js'
import { startBenchReceiver, type BenchReceiver } from './forwarderReceiver.js'
import { measured, type Measured } from './measured.js'
import { fillSinkInput } from './sinkInput.js'
import { formatTable } from './table.js'

export type ForwarderSectionOptions = {
  brokers: string[]
  registryUrl: string
  env: NodeJS.ProcessEnv
}

/** What the forwarder must do (issue 7): events per second to one HTTP destination. */
export const forwarderTarget = { eventsPerSecond: 20_000 } as const

const partitions = 6
const batchEvents = 500
const secret = `whsec_${Buffer.from('bench secret, thirty-two bytes!!').toString('base64')}`

type Run = Measured & { name: string; events: number; requests?: number }

/**
 * The forwarder from a pre-filled topic to a local HTTP receiver (one webhook destination,
 * signed JSON-array batches of 500), beside two baselines in the same run: reading and decoding
 * the topic alone (the floor any forwarder pays), and POSTing the same number of events in
 * pre-built batches of the same size straight to the receiver (the HTTP floor). When the target
 * is missed, a CPU profile of a second forwarder run says where the time goes.
 */
export async function forwarderSection(options: ForwarderSectionOptions): Promise<void> {
  const { brokers, registryUrl } = options
  const events = positive(options.env['BENCH_FORWARDER_EVENTS'], 200_000)
  const stamp = Date.now()
  const input = `bench_forwarder_in_${stamp}`
  const kafka = new Kafka({ clientId: 'bench-forwarder', brokers, logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const receiver = await startBenchReceiver()
  try {
    await admin.createTopics({ topics: [{ topic: input, numPartitions: partitions }], waitForLeaders: false })
    await createBenchTopics(admin, [input], { partitions })
    const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: registryUrl }) })
    const filled = await fillSinkInput({ brokers, codec, topic: input, events, sampleSize: batchEvents })
    console.log(
      `\nForwarder throughput, ${events} Avro events of ${Math.round(filled.valueBytes)} bytes on ${partitions} partitions ` +
        `to one webhook on 127.0.0.1 (a worker thread of this process), signed JSON arrays of up to ${batchEvents}; ` +
        `broker and registry on this machine (${brokers[0]}, ${availableParallelism()} CPUs, load average ${loadavg()[0]?.toFixed(1)})`,
    )

    const youngGeneration = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)].find(
      (flag) => flag.startsWith('--max-semi-space-size'),
    )
    console.log(
      youngGeneration
        ? `node flag ${youngGeneration} (the README's recommended setting for the forwarder)`
        : 'node default young generation: NODE_OPTIONS=--max-semi-space-size=64 is the README’s recommended setting for the forwarder, about twice the throughput',
    )
    const decodeOnly = await consumeAndDecode(kafka, codec, input, events)
    const rawPosts = await postBatches(receiver, codec, filled.sample, events)
    const forwarded = await forwarderRun({
      brokers,
      registryUrl,
      input,
      receiver,
      events,
      codec,
      name: `bench_fwd_${stamp}`,
    })

    const rows = [decodeOnly, rawPosts, forwarded].map((run) => [
      run.name,
      run.events.toLocaleString('en-US'),
      run.seconds.toFixed(2),
      Math.round(run.events / run.seconds).toLocaleString('en-US'),
      run.cpuSeconds.toFixed(2),
      `${Math.round(run.eventLoopBusy * 100)}%`,
      `${Math.round(run.machineBusy * 100)}%`,
    ])
    console.log(
      formatTable(['run', 'events', 'seconds', 'events/s', 'CPU s', 'loop busy', 'machine busy'], rows),
    )
    const rate = forwarded.events / forwarded.seconds
    const met = rate >= forwarderTarget.eventsPerSecond
    console.log(
      `target: at least ${forwarderTarget.eventsPerSecond.toLocaleString('en-US')} events/s to one HTTP destination: ` +
        `${met ? 'MET' : 'MISSED'} (${Math.round(rate).toLocaleString('en-US')} events/s, ` +
        `${Math.round((rate / (decodeOnly.events / decodeOnly.seconds)) * 100)}% of consume-and-decode alone)`,
    )
    if (!met) {
      const { profile } = await cpuProfiled(() =>
        forwarderRun({
          brokers,
          registryUrl,
          input,
          receiver,
          events,
          codec,
          name: `bench_fwd_profiled_${stamp}`,
        }),
      )
      printProfile(profile)
    }
  } finally {
    await receiver.close()
    await admin.disconnect()
  }
}

/** Baseline: a kafkajs consumer reading the topic and decoding every event, nothing more. */
async function consumeAndDecode(
  kafka: Kafka,
  codec: AuditEventCodec,
  topic: string,
  events: number,
): Promise<Run> {
  const consumer = kafka.consumer({ groupId: `bench_fwd_decode_${Date.now()}`, maxWaitTimeInMs: 100 })
  let decoded = 0
  try {
    const times = await measured(async () => {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      await consumer.run({
        partitionsConsumedConcurrently: partitions,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            if (message.value) await codec.decode(message.value)
            decoded++
          }
        },
      })
      await until(() => decoded >= events, 'the decode baseline')
    })
    return { ...times, name: 'baseline: consume and decode', events }
  } finally {
    await consumer.disconnect()
  }
}

/** Baseline: the same number of events POSTed in pre-built batches, `partitions` requests at a time. */
async function postBatches(
  receiver: BenchReceiver,
  codec: AuditEventCodec,
  sample: Buffer[],
  events: number,
): Promise<Run> {
  const decoded = await Promise.all(sample.map((value) => codec.decode(value)))
  const bodies = Array.from({ length: Math.ceil(events / batchEvents) }, (_, b) =>
    JSON.stringify(decoded.map((event, i) => ({ ...event, event_id: `raw-${b}-${i}` }))),
  )
  const before = receiver.receivedAll()
  const agent = new Agent({ keepAlive: true, maxSockets: partitions })
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const outgoing = request(
        `${receiver.url}/raw`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (response) => {
          response.resume()
          response.on('end', () => resolve())
          response.on('error', reject)
        },
      )
      outgoing.on('error', reject)
      outgoing.end(body)
    })
  try {
    const times = await measured(async () => {
      let next = 0
      await Promise.all(
        Array.from({ length: partitions }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!
            await post(body)
          }
        }),
      )
    })
    return { ...times, name: 'baseline: raw HTTP POSTs of batches', events: receiver.receivedAll() - before }
  } finally {
    agent.destroy()
  }
}

/** The forwarder in this process, from start until the receiver has every event. */
async function forwarderRun(options: {
  brokers: string[]
  registryUrl: string
  input: string
  receiver: BenchReceiver
  events: number
  codec: AuditEventCodec
  name: string
}): Promise<Run> {
  const { receiver, events } = options
  const config = loadForwarderConfig({
    KAFKA_BROKERS: options.brokers.join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl,
    FORWARDER_DESTINATIONS_FILE: 'bench',
    FORWARDER_INPUT_TOPICS: options.input,
    FORWARDER_GROUP_ID_PREFIX: options.name,
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${options.name}.dlq.`,
    FORWARDER_RETRY_TOPIC_PREFIX: `${options.name}.retry.`,
  })
  const destinations = parseDestinations(
    [
      'destinations:',
      '  - name: hook',
      '    kind: webhook',
      `    url: ${receiver.url}/audit`,
      '    signing_secret_env: BENCH_SECRET',
      `    batch: { max_events: ${batchEvents} }`,
      '    allowed_private_addresses: [127.0.0.1]',
    ].join('\n'),
    { file: 'bench', env: { BENCH_SECRET: secret }, readFile: () => '', defaultHostname: hostname() },
  )
  const kafka = new Kafka({
    clientId: 'bench-forwarder-run',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  })
  const forwarder = createForwarder({
    config,
    destinations,
    kafka,
    codec: options.codec,
    metrics: createForwarderMetrics(new Registry()),
    log: createLogger({ service: 'forwarder', level: 'warn' }),
  })
  // All events, repeats included: a second run (the profiled one) sends the same event ids again.
  const before = receiver.receivedAll()
  try {
    const times = await measured(async () => {
      await forwarder.start()
      await until(() => receiver.receivedAll() - before >= events, 'the forwarder run')
    })
    return { ...times, name: 'forwarder: topic to receiver', events: receiver.receivedAll() - before }
  } finally {
    await forwarder.stop()
  }
}

function printProfile(profile: CpuProfileSummary): void {
  const busyMs = profile.totalMs - profile.idleMs
  console.log(
    `\nwhere the forwarder's time goes (CPU profile of a second run, ${Math.round(busyMs)} ms busy of ${Math.round(profile.totalMs)} ms):`,
  )
  console.log(
    formatTable(
      ['package', 'self ms', 'with runtime ms', 'share of busy'],
      profile.packages
        .slice(0, 10)
        .map((p) => [
          p.name,
          p.selfMs.toFixed(0),
          p.withRuntimeMs.toFixed(0),
          `${Math.round((p.withRuntimeMs / busyMs) * 100)}%`,
        ]),
    ),
  )
  console.log(
    formatTable(
      ['function', 'where', 'self ms'],
      profile.functions.slice(0, 12).map((f) => [f.name, f.where, f.selfMs.toFixed(0)]),
    ),
  )
}

async function until(done: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what} did not finish within ${timeoutMs / 1000} s`)
    await sleep(5)
  }
}

function positive(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number <= 0)
    throw new Error(`BENCH_FORWARDER_EVENTS: expected a whole number above 0, got '${value}'`)
  return number
}
