import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type IHeaders, type Producer } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import {
  auditTables,
  defaultRetentionPolicy,
  eventRow,
  runMigrations,
} from '@audit-pipeline/clickhouse-schema'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import {
  collectTopics,
  uniqueName,
  waitFor,
  waitForCommittedToEnd,
  testSigningKeyFile,
} from '@audit-pipeline/testing'
import { openTestStorage } from '../../../test/support/testStorage.js'
import { loadSinkConfig } from './config.js'
import { createSinkMetrics } from './metrics.js'
import { temporalLevelHeader } from './delivery/rowTarget.js'
import { createSink, type Sink } from './sink.js'

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
/** Ticket events of their own (new ids, one record each), occurring at `occurredAt`. */
const newEvents = (count: number, occurredAt = Date.parse('2024-03-16T13:12:01Z')): AuditEvent[] =>
  Array.from({ length: count }, (_, i) => {
    const template = ticketEvents()[1]!
    return {
      ...template,
      event_id: crypto.randomUUID(),
      occurred_at: occurredAt + i,
      recorded_at: occurredAt + i,
      object: { ...template.object, id: `T-${i}` },
    }
  })

/** A sink started on a fixture's topics, group and database. */
type RunningSink = {
  sink: Sink
  metric(name: string, labels?: Record<string, string>): Promise<number>
  stop(): Promise<void>
}

/** Topics, a group and a database of the test's own; sinks may come and go on them. */
type Fixture = {
  input: string
  deadLetters: string
  groupId: string
  storage: Storage
  /** Produces `values` (to `partition`, each with `headers` when given). */
  send(values: Buffer[], partition?: number, headers?: IHeaders): Promise<void>
  /** Starts a sink; `kafka` replaces the client it is built on. Stopped when the test ends. */
  start(options?: { env?: Record<string, string>; kafka?: Kafka }): Promise<RunningSink>
  count(sql: string): Promise<number>
  /** Deletes the input topic and creates it again under the same name: offsets start at 0 again. */
  recreateInput(): Promise<void>
  /** Messages in a topic: the sum of its partitions' end offsets. */
  endOffsets(topic: string): Promise<number>
  committed(): Promise<string[]>
}

async function createFixture(partitions = 3): Promise<Fixture> {
  const input = uniqueName('sink_in')
  const deadLetters = uniqueName('sink_dlq')
  const admin = kafka.admin()
  await admin.connect()
  onTestFinished(() => admin.disconnect())
  await admin.createTopics({
    topics: [input, deadLetters].map((topic) => ({ topic, numPartitions: partitions })),
    waitForLeaders: true,
  })
  const testStorage = await openTestStorage()
  const { storage } = testStorage
  onTestFinished(() => testStorage.close())
  const groupId = uniqueName('sink')
  let producer: Producer | undefined
  const connectedProducer = async () => {
    if (!producer) {
      producer = kafka.producer()
      await producer.connect()
      const connected = producer
      onTestFinished(() => connected.disconnect())
    }
    return producer
  }
  return {
    input,
    deadLetters,
    groupId,
    storage,
    async send(values, partition, headers) {
      await (
        await connectedProducer()
      ).send({
        topic: input,
        acks: -1,
        messages: values.map((value) => ({
          value,
          ...(partition !== undefined && { partition }),
          ...(headers && { headers }),
        })),
      })
    },
    async start(options = {}) {
      const config = loadSinkConfig({
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        CLICKHOUSE_EMBEDDED_PATH: '/unused: the test opens storage itself',
        SINK_INPUT_TOPICS: input,
        SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
        SINK_GROUP_ID: groupId,
        SINK_DEAD_LETTER_TOPIC: deadLetters,
        SINK_BATCH_MAX_AGE_MS: '200',
        ...options.env,
      })
      const metrics = new Registry()
      const sink = createSink({
        config,
        kafka: options.kafka ?? kafka,
        codec: await testCodec(),
        storage,
        metrics: createSinkMetrics(metrics),
        log: createLogger({
          service: 'clickhouse-sink',
          level: (process.env['SINK_TEST_LOG'] ?? 'silent') as 'silent',
        }),
      })
      await sink.start()
      onTestFinished(() => sink.stop())
      return {
        sink,
        async metric(name, labels = {}) {
          const metric = await metrics.getSingleMetric(name)?.get()
          return (metric?.values ?? [])
            .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
            .reduce((sum, v) => sum + v.value, 0)
        },
        stop: () => sink.stop(),
      }
    },
    async count(sql) {
      const result = await storage.client.query({ query: sql, format: 'JSONEachRow' })
      const [row] = await result.json<{ n: string }>()
      return Number(row?.n ?? 0)
    },
    async recreateInput() {
      await producer?.disconnect()
      producer = undefined
      await admin.deleteTopics({ topics: [input] })
      await waitFor(async () => !(await admin.listTopics()).includes(input), {
        timeoutMs: 30_000,
        description: `${input} deleted`,
      })
      // The controller may still be removing it: creating it again is refused until it is gone,
      // and a creation may answer before its leaders are known. Done when it is there with leaders.
      await waitFor(
        async () => {
          await admin
            .createTopics({ topics: [{ topic: input, numPartitions: partitions }] })
            .catch(() => false)
          const [metadata] = (await admin.fetchTopicMetadata({ topics: [input] })).topics
          return metadata?.partitions.length === partitions && metadata.partitions.every((p) => p.leader >= 0)
        },
        { timeoutMs: 30_000, description: `${input} created again` },
      )
    },
    async endOffsets(topic) {
      return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)
    },
    async committed() {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] })
      return (offsets?.partitions ?? []).map((p) => p.offset)
    },
  }
}

type Harness = Fixture & RunningSink

async function startSink(env: Record<string, string> = {}): Promise<Harness> {
  const fixture = await createFixture()
  return { ...fixture, ...(await fixture.start({ env })) }
}

/** Each event once through the view analysts query, as a sorted list of ids. */
async function viewIds(storage: Storage): Promise<string[]> {
  const result = await storage.client.query({
    query: `SELECT toString(event_id) AS id FROM ${auditTables.eventsDeduplicated} ORDER BY id`,
    format: 'JSONEachRow',
  })
  return (await result.json<{ id: string }>()).map((row) => row.id)
}

const rowsStored = `SELECT count() AS n FROM ${auditTables.events}`
const eventsShown = `SELECT count() AS n FROM ${auditTables.eventsDeduplicated}`

describe('ClickHouse sink', () => {
  it('writes events in batches, each event once through the view, committing only what is stored', async () => {
    const harness = await startSink()
    const codec = await testCodec()
    const events = ticketEvents()
    // The first event twice: an exact duplicate, as the normalizer may write after a crash.
    await harness.send([...events, events[0]!].map((event) => codec.encode(event)))

    // The copy is recognised by its content digest and never written: the trail holds each event once.
    await waitFor(async () => (await harness.metric('audit_sink_rows_inserted_total')) === 3, {
      timeoutMs: 30_000,
      description: '3 rows written',
    })
    await waitFor(async () => (await harness.metric('audit_sink_replays_total')) === 1, {
      timeoutMs: 10_000,
      description: 'the copy taken as a replay',
    })
    expect(await harness.count(eventsShown)).toBe(3)
    expect(await harness.count('SELECT count() AS n FROM audit_events')).toBe(3)
    expect(await harness.count('SELECT count() AS n FROM audit_chain')).toBe(3)
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
    // Lag is the runtime's, labelled by group.
    expect(await harness.metric('audit_sink_consumer_lag', { group: harness.groupId })).toBe(0)
  })

  it('holds its batch while ClickHouse refuses writes, not ready, and loses nothing when it is back', async () => {
    const harness = await startSink({ SINK_RETRY_MAX_DELAY_MS: '200' })
    const codec = await testCodec()
    const events = newEvents(53)
    // One event per partition first, so the sink has looked up each partition's stored rows.
    for (const partition of [0, 1, 2]) await harness.send([codec.encode(events[partition]!)], partition)
    await waitFor(async () => (await harness.metric('audit_sink_rows_inserted_total')) === 3, {
      timeoutMs: 30_000,
      description: 'one row per partition',
    })
    await waitForCommittedToEnd(kafka, harness.groupId, harness.input)
    const committedBefore = await harness.committed()

    // The table goes away: every insert fails until it is back.
    await harness.storage.client.command({ query: 'DETACH TABLE audit_events SYNC' })
    await harness.send(events.slice(3).map((event) => codec.encode(event)))
    await waitFor(
      async () => (await harness.metric('audit_sink_clickhouse_retries_total', { operation: 'insert' })) >= 3,
      { timeoutMs: 30_000, description: 'insert retries while the table is gone' },
    )
    expect(harness.sink.ready()).toMatchObject({ ok: false, details: { clickhouseUnavailable: true } })
    expect(harness.sink.live().ok).toBe(true)
    // Nothing committed ahead of ClickHouse.
    expect(await harness.committed()).toEqual(committedBefore)

    await harness.storage.client.command({ query: 'ATTACH TABLE audit_events' })
    await waitFor(async () => (await harness.count(eventsShown)) === 53, {
      timeoutMs: 30_000,
      description: 'all 53 events once ClickHouse is back',
    })
    await expectCommittedToEnd(harness)
    await waitFor(() => harness.sink.ready().ok, { timeoutMs: 10_000, description: 'ready again' })
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
    await waitFor(async () => (await harness.count(eventsShown)) === 2, {
      timeoutMs: 30_000,
      description: 'the two good rows',
    })
    await expectCommittedToEnd(harness)
  })

  it('keeps only the newest change of a record marked temporal level 1, outside the trail and its chain', async () => {
    const harness = await startSink()
    const codec = await testCodec()
    const collector = await collectTopics(kafka, [harness.deadLetters])
    onTestFinished(() => collector.stop())
    const template = ticketEvents()[1]!
    const at = Date.parse('2024-03-16T13:12:01Z')
    const change = (objectId: string, secondsLater: number, priority: string): AuditEvent => ({
      ...template,
      event_id: crypto.randomUUID(),
      occurred_at: at + secondsLater * 1000,
      recorded_at: at + secondsLater * 1000,
      object: { ...template.object, id: objectId },
      changes: [
        { path: 'priority', old_value: null, new_value: JSON.stringify(priority), value_type: 'string' },
      ],
    })
    // Two records kept at temporal level 1, changed several times, one change arriving late;
    // each record on one partition, as the normalizer keys them.
    const a = [change('A-1', 1, 'Low'), change('A-1', 3, 'Urgent'), change('A-1', 2, 'Normal')]
    const b = [change('B-1', 1, 'Normal'), change('B-1', 2, 'Low')]
    const refused = { ...change('B-1', 9, 'Urgent'), event_id: 'not-a-uuid' }
    // Records that keep their history, one of them about record A too.
    const kept = [change('C-1', 1, 'Low'), change('C-1', 2, 'Normal'), change('A-1', 4, 'Low')]
    const marked = { [temporalLevelHeader]: '1' }
    await harness.send(
      a.map((event) => codec.encode(event)),
      0,
      marked,
    )
    await harness.send(
      [...b, refused].map((event) => codec.encode(event)),
      1,
      marked,
    )
    await harness.send(
      kept.map((event) => codec.encode(event)),
      2,
    )
    await expectCommittedToEnd(harness)

    const rowsOf = async <Row>(query: string) =>
      (await harness.storage.client.query({ query, format: 'JSONEachRow' })).json<Row>()
    const newest = [
      { object_id: 'A-1', event_id: a[1]!.event_id },
      { object_id: 'B-1', event_id: b[1]!.event_id },
    ]
    expect(
      await rowsOf(
        `SELECT object_id, toString(event_id) AS event_id FROM ${auditTables.recordLatest} FINAL ORDER BY object_id`,
      ),
    ).toEqual(newest)
    // The same answer by argMax, as documented (docs/storage-schema.md).
    expect(
      await rowsOf(
        `SELECT object_id, toString(argMax(event_id, (occurred_at, toUInt128(event_id)))) AS event_id
         FROM ${auditTables.recordLatest} GROUP BY tenant, object_type, object_id, object_id2, object_id3
         ORDER BY object_id`,
      ),
    ).toEqual(newest)

    // audit_events and the chain hold the records that keep their history, and only those.
    const idsIn = async (query: string) => (await rowsOf<{ id: string }>(query)).map((row) => row.id).sort()
    const keptIds = kept.map((event) => event.event_id).sort()
    expect(await viewIds(harness.storage)).toEqual(keptIds)
    expect(await idsIn(`SELECT toString(event_id) AS id FROM ${auditTables.events}`)).toEqual(keptIds)
    expect(await idsIn('SELECT toString(event_id) AS id FROM audit_chain')).toEqual(keptIds)
    expect(await harness.metric('audit_sink_rows_inserted_total', { table: auditTables.events })).toBe(3)
    expect(await harness.metric('audit_sink_rows_inserted_total', { table: auditTables.recordLatest })).toBe(
      5,
    )
    expect(await harness.metric('audit_sink_chain_entries_total')).toBe(3)

    // Merged, one row per record is left.
    await harness.storage.client.command({ query: `OPTIMIZE TABLE ${auditTables.recordLatest} FINAL` })
    expect(
      await rowsOf(
        `SELECT object_id, toString(event_id) AS event_id FROM ${auditTables.recordLatest} ORDER BY object_id`,
      ),
    ).toEqual(newest)

    // A marked row ClickHouse refuses is dead-lettered with its reason, its header kept.
    await waitFor(() => collector.messages.length >= 1, { timeoutMs: 10_000, description: 'a dead letter' })
    const [raw] = collector.messages
    const letter = readDeadLetter(raw!, { topic: raw!.topic, partition: raw!.partition, offset: raw!.offset })
    expect(letter).toMatchObject({
      errorClass: 'ROW_REJECTED',
      source: { topic: harness.input, partition: 1, offset: '2' },
    })
    expect(letter.message).toMatch(/UUID/i)
    expect(raw!.headers?.[temporalLevelHeader]?.toString()).toBe('1')
    expect(await harness.endOffsets(harness.deadLetters)).toBe(1)
  })

  it('dead-letters a message that holds no event and goes on with the partition', async () => {
    const harness = await startSink()
    const codec = await testCodec()
    const [first, second] = newEvents(2)
    await harness.send([codec.encode(first!), Buffer.from('not avro'), codec.encode(second!)], 0)
    await expectCommittedToEnd(harness)
    expect(await viewIds(harness.storage)).toEqual([first!.event_id, second!.event_id].sort())
    expect(await harness.endOffsets(harness.deadLetters)).toBe(1)
    expect(await harness.metric('audit_sink_dead_lettered_total', { reason: 'EVENT_UNDECODABLE' })).toBe(1)
  })
})

/**
 * The windows in which a sink that skipped every offset up to the highest one stored lost rows.
 * Each test stops the sink at the point in question (or writes what it would have written by
 * then), starts a fresh one, and counts every row and dead letter.
 */
describe('ClickHouse sink after a crash', () => {
  it('keeps the refused row when it crashed between the insert and the dead-letter send', async () => {
    const fixture = await createFixture()
    const codec = await testCodec()
    const [good1, bad, good2] = newEvents(3)
    await fixture.send(
      [codec.encode(good1!), codec.encode({ ...bad!, event_id: 'not-a-uuid' }), codec.encode(good2!)],
      0,
    )

    // This sink inserts the batch, then fails to send its dead letter (as if it died there):
    // nothing is committed, and its runtime restarts from the last commit, failing again.
    const crashing = await fixture.start({ kafka: withDeadLetterSendsFailing(kafka) })
    await waitFor(
      async () =>
        (await fixture.count(rowsStored)) === 2 &&
        (await crashing.metric('audit_sink_consumer_restarts_total', { reason: 'step' })) >= 2,
      { timeoutMs: 30_000, description: 'the good rows stored, and two failures at the dead-letter send' },
    )
    // It never exits: it keeps restarting from the last commit.
    expect(crashing.sink.live().ok).toBe(true)
    await crashing.stop()
    expect(await fixture.endOffsets(fixture.deadLetters)).toBe(0)
    expect(await fixture.committed()).toEqual(['-1', '-1', '-1'])
    // Restarting from the last commit, it wrote nothing twice.
    expect(await fixture.count(rowsStored)).toBe(2)

    const collector = await collectTopics(kafka, [fixture.deadLetters])
    onTestFinished(() => collector.stop())
    const fresh = await fixture.start()
    await waitForCommittedToEnd(kafka, fixture.groupId, fixture.input, 30_000)
    // The dead letter went out before the commit, once.
    expect(await fixture.endOffsets(fixture.deadLetters)).toBe(1)
    await waitFor(() => collector.messages.length === 1, {
      timeoutMs: 10_000,
      description: 'the dead letter',
    })
    const [raw] = collector.messages
    const letter = readDeadLetter(raw!, { topic: raw!.topic, partition: raw!.partition, offset: raw!.offset })
    expect(letter).toMatchObject({
      errorClass: 'ROW_REJECTED',
      source: { topic: fixture.input, offset: '1' },
    })
    expect((await codec.decode(letter.value!)).event_id).toBe('not-a-uuid')
    // The good rows, stored before the crash, are each there once: skipped, not written again.
    expect(await viewIds(fixture.storage)).toEqual([good1!.event_id, good2!.event_id].sort())
    expect(await fixture.count(rowsStored)).toBe(2)
    expect(await fresh.metric('audit_sink_already_stored_total')).toBe(2)
    expect(await fixture.count('SELECT count() AS n FROM audit_chain')).toBe(2)
  })

  it('keeps the rows of a batch spanning two months when only one month’s part was written', async () => {
    const fixture = await createFixture()
    const codec = await testCodec()
    // One batch, offsets 0..9, alternating March and April: ClickHouse writes it as two parts,
    // one per month (the table is partitioned by month), not atomically.
    const march = newEvents(5, Date.parse('2024-03-30T10:00:00Z'))
    const april = newEvents(5, Date.parse('2024-04-02T10:00:00Z'))
    const events = march.flatMap((event, i) => [event, april[i]!])
    await fixture.send(
      events.map((event) => codec.encode(event)),
      0,
    )
    // The crash came between the parts: April's part (which holds the batch's highest offset, 9)
    // was written; March's was not, and nothing was committed.
    await runMigrations(fixture.storage, {
      database: fixture.storage.describe().database,
      retention: defaultRetentionPolicy,
    })
    await fixture.storage.client.insert({
      table: auditTables.events,
      values: events.flatMap((event, offset) =>
        offset % 2 === 1
          ? [eventRow(event, { topic: fixture.input, partition: 0, offset: String(offset) })]
          : [],
      ),
      format: 'JSONEachRow',
    })
    expect(await fixture.count(rowsStored)).toBe(5)

    const sink = await fixture.start()
    await waitForCommittedToEnd(kafka, fixture.groupId, fixture.input, 30_000)
    expect(await viewIds(fixture.storage)).toEqual(events.map((event) => event.event_id).sort())
    // April's rows were skipped, March's written: each row once.
    expect(await fixture.count(rowsStored)).toBe(10)
    expect(await sink.metric('audit_sink_already_stored_total')).toBe(5)
    // April's rows, stored before their chain entries were written, are chained now: all ten.
    expect(await fixture.count('SELECT count() AS n FROM audit_chain')).toBe(10)
  })

  it('keeps the events of a topic deleted and created again, at the old topic’s offsets', async () => {
    const fixture = await createFixture(1)
    const codec = await testCodec()
    const before = newEvents(5)
    await fixture.send(before.map((event) => codec.encode(event)))
    const first = await fixture.start()
    await waitForCommittedToEnd(kafka, fixture.groupId, fixture.input, 30_000)
    await first.stop()
    expect(await fixture.count(eventsShown)).toBe(5)

    // Same name, offsets from 0 again, other events at them.
    await fixture.recreateInput()
    const after = newEvents(5)
    await fixture.send(after.map((event) => codec.encode(event)))
    expect(await fixture.endOffsets(fixture.input)).toBe(5)

    await fixture.start()
    await waitFor(async () => (await fixture.count(eventsShown)) === 10, {
      timeoutMs: 30_000,
      description: 'the recreated topic’s 5 events beside the old 5',
    })
    await waitForCommittedToEnd(kafka, fixture.groupId, fixture.input, 30_000)
    expect(await viewIds(fixture.storage)).toEqual(
      [...before, ...after].map((event) => event.event_id).sort(),
    )
    expect(await fixture.count(rowsStored)).toBe(10)
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
      SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
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

/**
 * `real`, except that its producers' sends fail: a sink built on it stops after each insert,
 * before its dead letters go out, as one killed at that point would.
 */
function withDeadLetterSendsFailing(real: Kafka): Kafka {
  const failing = Object.create(real) as Kafka
  failing.producer = (config) =>
    Object.assign(real.producer(config), {
      send: () => Promise.reject(new Error('stopped before the dead letters were sent')),
    })
  return failing
}

/** The group's committed offsets are the input's end offsets: nothing left behind, nothing skipped. */
function expectCommittedToEnd(harness: Harness): Promise<void> {
  return waitForCommittedToEnd(kafka, harness.groupId, harness.input, 30_000)
}
