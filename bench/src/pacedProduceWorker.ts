import { parentPort, workerData } from 'node:worker_threads'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { partitionKeyFor } from '@audit-pipeline/event-model'
import { concurrentSends, sinkEvent, sinkEventTemplate } from './sinkInput.js'

/** What the worker is told: see pacedProduce in sinkLatency.ts. */
export type PacedProduceRequest = {
  brokers: string[]
  registryUrl: string
  topic: string
  eventsPerSecond: number
  seconds: number
  tickMs: number
}

export type PacedProduceReport = {
  sent: number
  /** From the first tick to the last send answered. */
  seconds: number
  /** Ticks that began more than one tick late (the encoding or the broker fell behind). */
  lateTicks: number
  ticks: number
}

// A worker thread, so that encoding and sending at the target rate do not run on the event loop
// of the sink under test: it would delay the sink's own work and so its measured latency.
const request = workerData as PacedProduceRequest
const codec = await createAuditEventCodec({ registry: new SchemaRegistry({ host: request.registryUrl }) })
const kafka = new Kafka({ clientId: 'bench-paced', brokers: request.brokers, logLevel: logLevel.NOTHING })
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
await producer.connect()
try {
  const template = sinkEventTemplate()
  const sends = concurrentSends(producer, request.topic, 8)
  const perTick = Math.round((request.eventsPerSecond * request.tickMs) / 1000)
  const ticks = Math.round((request.seconds * 1000) / request.tickMs)
  const started = performance.now()
  let sent = 0
  let lateTicks = 0
  for (let tick = 0; tick < ticks; tick++) {
    // Each tick at its own time from the start, so a late tick does not push the later ones back.
    const due = started + tick * request.tickMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    else if (-wait > request.tickMs) lateTicks++
    const now = Date.now()
    const messages: Message[] = []
    for (let i = 0; i < perTick; i++) {
      const event = sinkEvent(template, sent + i, now)
      messages.push({ key: partitionKeyFor(event), value: codec.encode(event) })
    }
    await sends.send(messages)
    sent += perTick
  }
  await sends.settled()
  const report: PacedProduceReport = {
    sent,
    seconds: (performance.now() - started) / 1000,
    lateTicks,
    ticks,
  }
  parentPort?.postMessage(report)
} finally {
  await producer.disconnect()
}
