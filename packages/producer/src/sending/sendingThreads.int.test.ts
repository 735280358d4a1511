import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createTestTopic, uniqueName } from '@audit-pipeline/testing'
import { createAuditProducer, type AuditProducerOptions } from '../auditProducer.js'
import { buildPackage } from '../../../../test/support/serviceProcess.js'
import { EventInvalidError } from '@audit-pipeline/event-model'
import { ProducerError } from '../producerError.js'
import { endOffsetTotal as topicRecords, readEvents } from '../testSupport/topicContents.js'

const stack = inject('stack')
const config: KafkaConfig = {
  clientId: 'sending-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
}
const kafka = new Kafka(config)
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
/** The built sending thread: the tests run from the sources, where it does not exist. */
const sendThreadScript = pathToFileURL(
  join(import.meta.dirname, '..', '..', 'dist', 'sending', 'sendThread.js'),
)
const defaults = { tenant: 'witify', source: { service: 'helpdesk-api' } }

// The thread runs the compiled package, as the SDK ships it.
beforeAll(() => buildPackage('@audit-pipeline/producer'), 300_000)

const newTopic = (partitions = 6) => createTestTopic(kafka, 'sending_test', partitions)

async function open(options: Partial<AuditProducerOptions> & Pick<AuditProducerOptions, 'kafka'>) {
  const audit = await createAuditProducer({ registry, defaults, sendThreadScript, ...options })
  onTestFinished(() => audit.close())
  return audit
}

const endOffsetTotal = (topic: string) => topicRecords(kafka, topic)

/** Each event's object id and step, per partition in offset order. */
async function readSteps(topic: string, count: number) {
  return (await readEvents(kafka, registry, topic, count)).map(({ partition, event }) => ({
    partition,
    object: event.object.id,
    step: Number(event.attributes['step']),
    eventId: event.event_id,
  }))
}

describe.each([
  { thread: 'worker', kafkaOf: () => config },
  { thread: 'caller', kafkaOf: () => kafka },
] as const)('sending from the $thread thread', ({ thread, kafkaOf }) => {
  it("with several batches in flight, every event arrives once and each object's events in order", async () => {
    const topic = await newTopic()
    const audit = await open({
      kafka: kafkaOf(),
      topic,
      // Small batches, so that many are in flight on every lane at once.
      batching: { maxBatchSize: 25, inFlightBatches: 4, lingerMs: 1 },
    })
    expect(audit.sendingThread).toBe(thread)
    const objects = 40
    const steps = 50
    const acknowledged: string[] = []
    const calls: Promise<void>[] = []
    for (let step = 0; step < steps; step++) {
      for (let object = 0; object < objects; object++) {
        calls.push(
          audit
            .read(
              { type: 'ticket', id: `T-${object}` },
              { actor: { id: 'u-1' }, attributes: { step: `${step}` } },
            )
            .then((event) => void acknowledged.push(event.event_id)),
        )
      }
    }
    await Promise.all(calls)
    const read = await readSteps(topic, objects * steps)
    // The oracle: every acknowledged event stored once, nothing else, each object's steps in order.
    const ids = read.map((entry) => entry.eventId)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBe(acknowledged.length)
    expect(new Set(ids)).toEqual(new Set(acknowledged))
    const byObject = new Map<string, typeof read>()
    for (const entry of read) byObject.set(entry.object, [...(byObject.get(entry.object) ?? []), entry])
    for (const [object, entries] of byObject) {
      expect(new Set(entries.map((entry) => entry.partition)).size, object).toBe(1)
      expect(
        entries.map((entry) => entry.step),
        object,
      ).toEqual(Array.from({ length: steps }, (_, i) => i))
    }
  })

  it('names a missing topic before anything is sent', async () => {
    const missing = uniqueName('no_such_topic')
    const opening = createAuditProducer({
      kafka: kafkaOf(),
      registry,
      defaults,
      sendThreadScript,
      topic: missing,
    })
    await expect(opening).rejects.toBeInstanceOf(ProducerError)
    await expect(opening).rejects.toMatchObject({ code: 'TOPIC_MISSING', retriable: false })
    await expect(opening).rejects.toThrow(`topic ${missing} does not exist`)
  })
})

describe('the sending thread', () => {
  it('never gets an event nested 6,000 levels deep or over the size limit: each is refused naming its field, nothing is sent, and the next event goes', async () => {
    const topic = await newTopic(3)
    const audit = await open({ kafka: config, topic })
    expect(audit.sendingThread).toBe('worker')
    let deep: unknown = 'bottom'
    for (let level = 0; level < 6_000; level++) deep = { level: deep }
    const nested = audit.created({ type: 'ticket', id: 'T-deep' }, { body: deep }, { actor: { id: 'u-1' } })
    await expect(nested).rejects.toMatchObject({ name: 'JsonValueError', code: 'TOO_DEEP' })
    await expect(nested).rejects.toThrow(/nests objects and arrays more than 64 levels deep/)
    const huge = audit.created(
      { type: 'ticket', id: 'T-huge' },
      { body: 'x'.repeat(5 * 1024 * 1024) },
      { actor: { id: 'u-1' } },
    )
    await expect(huge).rejects.toBeInstanceOf(EventInvalidError)
    await expect(huge).rejects.toThrow(/over the \d+-byte limit/)
    const sent = await audit.read({ type: 'ticket', id: 'T-1' }, { actor: { id: 'u-1' } })
    const read = await readSteps(topic, 1)
    expect(read.map((entry) => entry.eventId)).toEqual([sent.event_id])
    expect(await endOffsetTotal(topic)).toBe(1)
  })

  it('says clearly when the broker cannot be reached, from the thread too', async () => {
    const opening = createAuditProducer({
      kafka: {
        brokers: ['127.0.0.1:1'],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 500,
      },
      registry,
      defaults,
      sendThreadScript,
      endpoints: { brokers: ['127.0.0.1:1'] },
    })
    await expect(opening).rejects.toMatchObject({ code: 'BROKER_UNAVAILABLE', retriable: true })
    await expect(opening).rejects.toThrow(/^cannot connect to Kafka at 127\.0\.0\.1:1: /)
  })

  it('refuses a configuration that cannot cross threads, and a client it was told to send from a thread', async () => {
    const withFunction = createAuditProducer({
      kafka: { ...config, logCreator: () => () => undefined },
      registry,
      defaults,
      sendThreadScript,
    })
    await expect(withFunction).rejects.toThrow(TypeError)
    await expect(withFunction).rejects.toThrow(/^kafka: this configuration cannot go to the sending thread/)
    await expect(createAuditProducer({ kafka, registry, defaults, sendFrom: 'worker' })).rejects.toThrow(
      /^sendFrom: 'worker' needs kafka to be a configuration/,
    )
    await expect(
      createAuditProducer({ kafka, registry, defaults, batching: { inFlightBatches: 0 } }),
    ).rejects.toThrow('batching.inFlightBatches must be a whole number from 1 to 64, not 0')
  })

  it('that dies fails the batches it held, and the next send starts a new one', async () => {
    const topic = await newTopic(3)
    // A thread that connects, then exits on its first batch; the thread after it is the real one.
    const directory = mkdtempSync(join(tmpdir(), 'send-thread-'))
    const marker = join(directory, 'died-once')
    const script = join(directory, 'dyingSendThread.mjs')
    writeFileSync(
      script,
      `import { existsSync, writeFileSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
if (existsSync(${JSON.stringify(marker)})) {
  await import(${JSON.stringify(sendThreadScript.href)})
} else {
  parentPort.on('message', (request) => {
    if (request.type === 'connect') return parentPort.postMessage({ id: request.id, ok: true })
    writeFileSync(${JSON.stringify(marker)}, '')
    process.exit(3)
  })
}
`,
    )
    const audit = await open({ kafka: config, topic, sendThreadScript: pathToFileURL(script) })
    expect(audit.sendingThread).toBe('worker')
    const lost = audit.read({ type: 'ticket', id: 'T-1' }, { actor: { id: 'u-1' } })
    await expect(lost).rejects.toMatchObject({ code: 'SEND_FAILED', retriable: true })
    await expect(lost).rejects.toThrow('the sending thread stopped: it exited with code 3')
    const sent = await audit.read({ type: 'ticket', id: 'T-1' }, { actor: { id: 'u-1' } })
    const read = await readSteps(topic, 1)
    expect(read.map((entry) => entry.eventId)).toEqual([sent.event_id])
  })
})
