import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import { collectTopics, uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { loadSinkConfig } from './config.js'
import { createSinkMetrics } from './metrics.js'
import { createSink } from './sink.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'sink-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () => (sharedCodec ??= createAuditEventCodec({ registry }))
const ticketEvents = (): AuditEvent[] =>
  ticketExampleLines().map((line, i) => ({
    ...parseEventJson(JSON.parse(line)),
    recorded_at: Date.parse('2024-03-16T13:12:01Z') + i,
  }))

type Harness = {
  input: string
  deadLetters: string
  groupId: string
  storage: Storage
  send(values: Buffer[], partition?: number): Promise<void>
  metric(name: string, labels?: Record<string, string>): Promise<number>
  count(sql: string): Promise<number>
}

async function startSink(env: Record<string, string> = {}): Promise<Harness> {
  const input = uniqueName('sink_in')
  const deadLetters = uniqueName('sink_dlq')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({
    topics: [input, deadLetters].map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  })
  await admin.disconnect()
  const testStorage = await openTestStorage()
  const { storage } = testStorage
  onTestFinished(() => testStorage.close())
  const groupId = uniqueName('sink')
  const config = loadSinkConfig({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    CLICKHOUSE_EMBEDDED_PATH: '/unused: the test opens storage itself',
    SINK_INPUT_TOPICS: input,
    SINK_GROUP_ID: groupId,
    SINK_DEAD_LETTER_TOPIC: deadLetters,
    SINK_BATCH_MAX_AGE_MS: '200',
    ...env,
  })
  const metrics = new Registry()
  const sink = createSink({
    config,
    kafka,
    codec: await testCodec(),
    storage,
    metrics: createSinkMetrics(metrics),
    log: createLogger({ service: 'clickhouse-sink', level: 'silent' }),
  })
  await sink.start()
  onTestFinished(() => sink.stop())
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  return {
    input,
    deadLetters,
    groupId,
    storage,
    async send(values, partition) {
      await producer.send({
        topic: input,
        acks: -1,
        messages: values.map((value) => ({ value, ...(partition !== undefined && { partition }) })),
      })
    },
    async metric(name, labels = {}) {
      const metric = await metrics.getSingleMetric(name)?.get()
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0)
    },
    async count(sql) {
      const result = await storage.client.query({ query: sql, format: 'JSONEachRow' })
      const [row] = await result.json<{ n: string }>()
      return Number(row?.n ?? 0)
    },
  }
}

describe('ClickHouse sink', () => {
  it('writes events in batches, each event once through the view, committing only what is stored', async () => {
    const harness = await startSink()
    const codec = await testCodec()
    const events = ticketEvents()
    // The first event twice: an exact duplicate, as the normalizer may write after a crash.
    await harness.send([...events, events[0]!].map((event) => codec.encode(event)))

    await waitFor(async () => (await harness.metric('audit_sink_rows_inserted_total')) === 4, {
      timeoutMs: 30_000,
      description: '4 rows written',
    })
    expect(await harness.count('SELECT count() AS n FROM audit_events_deduplicated')).toBe(3)
    const timeline = await harness.storage.client.query({
      query: `SELECT action_name, actor_display_name FROM audit_events_deduplicated
              WHERE tenant = 'witify' AND object_type = 'ticket' AND object_id = '9548-B1' ORDER BY occurred_at`,
      format: 'JSONEachRow',
    })
    expect((await timeline.json<{ actor_display_name: string }>()).map((r) => r.actor_display_name)).toEqual([
      'Alex Mercer',
      'Jack Peltrow',
      'Stefany Ilds',
    ])
    await expectCommittedToEnd(harness)
  })

  it('holds its batch while ClickHouse refuses writes, and loses nothing when it is back', async () => {
    const harness = await startSink({ SINK_RETRY_MAX_DELAY_MS: '200' })
    const codec = await testCodec()
    const events = Array.from({ length: 53 }, (_, i) => ({
      ...ticketEvents()[1]!,
      event_id: crypto.randomUUID(),
      object: { ...ticketEvents()[1]!.object, id: `T-${i}` },
    }))
    // One event per partition first, so the sink has read each partition's stored offsets.
    for (const partition of [0, 1, 2]) await harness.send([codec.encode(events[partition]!)], partition)
    await waitFor(async () => (await harness.metric('audit_sink_rows_inserted_total')) === 3, {
      timeoutMs: 30_000,
      description: 'one row per partition',
    })
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    const committedBefore = await admin.fetchOffsets({ groupId: harness.groupId, topics: [harness.input] })

    // The table goes away: every insert fails until it is back.
    await harness.storage.client.command({ query: 'DETACH TABLE audit_events SYNC' })
    await harness.send(events.slice(3).map((event) => codec.encode(event)))
    await waitFor(
      async () => (await harness.metric('audit_sink_clickhouse_retries_total', { operation: 'insert' })) >= 3,
      { timeoutMs: 30_000, description: 'insert retries while the table is gone' },
    )
    // Nothing committed ahead of ClickHouse.
    expect(await admin.fetchOffsets({ groupId: harness.groupId, topics: [harness.input] })).toEqual(
      committedBefore,
    )

    await harness.storage.client.command({ query: 'ATTACH TABLE audit_events' })
    await waitFor(
      async () => (await harness.count('SELECT count() AS n FROM audit_events_deduplicated')) === 53,
      { timeoutMs: 30_000, description: 'all 53 events once ClickHouse is back' },
    )
    await expectCommittedToEnd(harness)
  })

  it('dead-letters a row ClickHouse refuses, with the server’s reason, and writes the rest of the batch', async () => {
    const harness = await startSink()
    const codec = await testCodec()
    const collector = await collectTopics(kafka, [harness.deadLetters])
    onTestFinished(() => collector.stop())
    const [good1, bad, good2] = ticketEvents()
    // Avro takes any string as event_id; ClickHouse's UUID column does not.
    await harness.send([
      codec.encode(good1!),
      codec.encode({ ...bad!, event_id: 'not-a-uuid' }),
      codec.encode(good2!),
    ])

    await waitFor(() => collector.messages.length >= 1, { timeoutMs: 30_000, description: 'a dead letter' })
    const [raw] = collector.messages
    const letter = readDeadLetter(raw!, { topic: raw!.topic, partition: raw!.partition, offset: raw!.offset })
    expect(letter).toMatchObject({
      errorClass: 'ROW_REJECTED',
      service: 'clickhouse-sink',
      source: { topic: harness.input },
    })
    expect(letter.message).toMatch(/UUID/i)
    expect((await codec.decode(letter.value!)).event_id).toBe('not-a-uuid')
    await waitFor(
      async () => (await harness.count('SELECT count() AS n FROM audit_events_deduplicated')) === 2,
      {
        timeoutMs: 30_000,
        description: 'the two good rows',
      },
    )
    await expectCommittedToEnd(harness)
  })
})

describe('ClickHouse sink start-up', () => {
  it('refuses to start without its dead-letter topic, naming it', async () => {
    const testStorage = await openTestStorage()
    onTestFinished(() => testStorage.close())
    const missing = uniqueName('sink_no_such_dlq')
    const config = loadSinkConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      CLICKHOUSE_EMBEDDED_PATH: '/unused: the test opens storage itself',
      SINK_INPUT_TOPICS: uniqueName('sink_no_such_input'),
      SINK_DEAD_LETTER_TOPIC: missing,
    })
    const sink = createSink({
      config,
      kafka,
      codec: await testCodec(),
      storage: testStorage.storage,
      metrics: createSinkMetrics(new Registry()),
      log: createLogger({ service: 'clickhouse-sink', level: 'silent' }),
    })
    await expect(sink.start()).rejects.toThrow(new RegExp(`topics missing: .*${missing}`))
  })
})

/** The group's committed offsets are the input's end offsets: nothing left behind, nothing skipped. */
function expectCommittedToEnd(harness: Harness): Promise<void> {
  return waitForCommittedToEnd(kafka, harness.groupId, harness.input)
}
