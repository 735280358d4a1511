import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import avro from 'avsc'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type IHeaders } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, writeWireHeader, type AuditEventCodec } from '@audit-pipeline/codec'
import {
  deadLetterHeaderNames,
  deadLetterOpener,
  readDeadLetter,
  replayDeadLetters,
  type SealedDeadLetter,
} from '@audit-pipeline/dead-letter'
import { parseEventJson, sealedValuePattern, type AuditEvent } from '@audit-pipeline/event-model'
import {
  openEvents,
  openLocalKeyStore,
  readKeyEncryptionKeyFile,
  writeKeyEncryptionKeyFile,
} from '@audit-pipeline/field-encryption'
import {
  auditEventContract,
  currentSchema,
  ticketExampleLines,
  type AvroSchema,
} from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import {
  collectTopics,
  uniqueName,
  waitFor,
  waitForCommittedToEnd,
  type CollectedMessage,
} from '@audit-pipeline/testing'
import { loadNormalizerConfig } from './config.js'
import { createNormalizerMetrics } from './metrics.js'
import { createNormalizer } from './normalizer.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'normalizer-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const registry = new SchemaRegistry({ host: stack.schemaRegistryUrl })
const fixture = (name: string) => readFileSync(new URL(`./adapters/fixtures/${name}`, import.meta.url))
const [ticketCreated = '', ticketRaised = '', ticketLowered = ''] = ticketExampleLines()

let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () => (sharedCodec ??= createAuditEventCodec({ registry }))

async function createTopics(...topics: string[]): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
      waitForLeaders: true,
    })
  } finally {
    await admin.disconnect()
  }
}

type Harness = {
  input: string
  deadLetters: string
  routesFile: string
  groupId: string
  metrics: Registry
  normalizer: ReturnType<typeof createNormalizer>
  send(messages: { value: Buffer | string | null; headers?: IHeaders; key?: string }[]): Promise<void>
  metric(name: string, labels?: Record<string, string>): Promise<number>
}

/** A normalizer in this process on fresh topics; `routes` uses OUT_* placeholders replaced by topics. */
async function startNormalizer(routes: string, env: Record<string, string> = {}): Promise<Harness> {
  const input = uniqueName('norm_in')
  const deadLetters = uniqueName('norm_dlq')
  await createTopics(input)
  const dir = mkdtempSync(join(tmpdir(), 'normalizer-test-'))
  const routesFile = join(dir, 'routes.yaml')
  writeFileSync(routesFile, routes)
  const groupId = uniqueName('normalizer')
  const config = loadNormalizerConfig({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    ...(env['NORMALIZER_INPUT_TOPIC_PATTERN'] === undefined && { NORMALIZER_INPUT_TOPICS: input }),
    NORMALIZER_GROUP_ID: groupId,
    NORMALIZER_ROUTES_FILE: routesFile,
    NORMALIZER_DEAD_LETTER_TOPIC: deadLetters,
    NORMALIZER_TOPIC_PARTITIONS: '2',
    ...env,
  })
  const metrics = new Registry()
  const codec = await createAuditEventCodec({
    registry: new SchemaRegistry({ host: config.schemaRegistry.url }),
    maxEventBytes: Number.MAX_SAFE_INTEGER,
  })
  const normalizer = createNormalizer({
    config,
    kafka,
    codec,
    metrics: createNormalizerMetrics(metrics),
    log: createLogger({ service: 'normalizer', level: 'silent' }),
  })
  await normalizer.start()
  onTestFinished(() => normalizer.stop())
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  return {
    input,
    deadLetters,
    routesFile,
    groupId,
    metrics,
    normalizer,
    // Partition 0 for everything: one ordered stream, so "keeps flowing" is observable.
    async send(messages) {
      await producer.send({ topic: input, acks: -1, messages: messages.map((m) => ({ ...m, partition: 0 })) })
    },
    async metric(name, labels = {}) {
      const metric = await metrics.getSingleMetric(name)?.get()
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0)
    },
  }
}

async function collect(...topics: string[]) {
  const collector = await collectTopics(kafka, topics)
  onTestFinished(() => collector.stop())
  return collector
}

async function until(collector: { messages: readonly CollectedMessage[] }, topic: string, count: number) {
  return waitFor(
    () => {
      const found = collector.messages.filter((m) => m.topic === topic)
      return found.length >= count && found
    },
    { timeoutMs: 30_000, description: `${count} messages in ${topic}` },
  )
}

async function decoded(messages: readonly CollectedMessage[]): Promise<AuditEvent[]> {
  const codec = await testCodec()
  return Promise.all(messages.map((m) => codec.decode(m.value!)))
}

const jsonEvent = (line: string, changes: Record<string, unknown> = {}) =>
  JSON.stringify({ ...(JSON.parse(line) as Record<string, unknown>), ...changes })

describe('normalizer service', () => {
  it('normalizes Avro of two schema versions, JSON, CloudEvents and Debezium, and routes each', async () => {
    const outA = uniqueName('norm_a')
    const outB = uniqueName('norm_b')
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-debezium-'))
    writeFileSync(
      join(dir, 'debezium.yaml'),
      'tenant: witify\ntables:\n  public.tickets: { objectType: ticket, actorColumn: updated_by }\n',
    )
    const harness = await startNormalizer(
      `routes:
  - name: drop-debug
    match: { category: debug }
    drop: { reason: debug events are not kept }
  - name: security
    match: { category: security }
    to: [${outA}, ${outB}]
default:
  to: [${outA}]
`,
      { NORMALIZER_DEBEZIUM_FILE: join(dir, 'debezium.yaml') },
    )
    const codec = await testCodec()
    const created = {
      ...parseEventJson(JSON.parse(ticketCreated)),
      recorded_at: Date.parse('2024-03-14T09:45:01Z'),
    }
    // An older producer's schema: no sensitive_fields, no correlation.request_id.
    const older = structuredClone(currentSchema(auditEventContract)) as AvroSchema & {
      fields: { name: string; type: unknown }[]
    }
    older.fields = older.fields.filter((f) => f.name !== 'sensitive_fields')
    const correlation = older.fields.find((f) => f.name === 'correlation')!.type as {
      fields: { name: string }[]
    }
    correlation.fields = correlation.fields.filter((f) => f.name !== 'request_id')
    const olderId = (
      await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(older) },
        { subject: uniqueName('normalizer-older') },
      )
    ).id
    const raised = parseEventJson(JSON.parse(ticketRaised))
    const olderBytes = writeWireHeader(
      olderId,
      avro.Type.forSchema(older as avro.Schema).toBuffer({ ...raised, recorded_at: raised.occurred_at }),
    )

    const collector = await collect(outA, outB)
    await harness.send([
      { value: codec.encode(created) },
      { value: olderBytes },
      { value: jsonEvent(ticketLowered) },
      {
        value: jsonEvent(ticketCreated, {
          event_id: '7a4e1f0c-2b3d-4e5f-8a9b-0c1d2e3f4a5b',
          category: 'security',
        }),
      },
      {
        value: jsonEvent(ticketCreated, {
          event_id: '7a4e1f0c-2b3d-4e5f-8a9b-0c1d2e3f4a5c',
          category: 'debug',
        }),
      },
      { value: fixture('cloudevents-ticket-priority-lowered.json') },
      {
        value: fixture('debezium-ticket-update-priority.json'),
        headers: { 'audit-input-format': 'debezium' },
      },
      { value: null }, // a tombstone: skipped, counted
    ])

    const inA = await decoded(await until(collector, outA, 6))
    const inB = await decoded(await until(collector, outB, 1))
    expect(inA.map((e) => e.action.name)).toEqual([
      created.action.name,
      raised.action.name,
      parseEventJson(JSON.parse(ticketLowered)).action.name,
      created.action.name,
      'ticket.update', // CloudEvents: the record in `data` names it
      expect.any(String), // Debezium: derived from the table and operation
    ])
    expect(inA[0]).toEqual(created)
    // The older schema's event arrives in today's form, recorded_at as the producer set it.
    expect(inA[1]).toMatchObject({
      event_id: raised.event_id,
      sensitive_fields: [],
      recorded_at: raised.occurred_at,
    })
    // JSON without recorded_at gets the message's Kafka timestamp, a whole millisecond.
    expect(Number.isInteger(inA[2]!.recorded_at)).toBe(true)
    const debezium = inA[5]!
    expect(debezium).toMatchObject({ action: { kind: 'update' }, object: { type: 'ticket', id: '9548-B1' } })
    expect(debezium.changes).toContainEqual(
      expect.objectContaining({ path: 'priority', old_value: '"Normal"', new_value: '"Urgent"' }),
    )
    expect(inB.map((e) => e.event_id)).toEqual(['7a4e1f0c-2b3d-4e5f-8a9b-0c1d2e3f4a5b'])
    // Keyed by object, so one ticket's events stay in one partition, in order.
    const keys = new Set((await until(collector, outA, 6)).slice(0, 4).map((m) => m.key?.toString()))
    expect(keys).toEqual(new Set(['witify/ticket/9548-B1']))

    await waitFor(async () => (await harness.metric('audit_normalizer_messages_consumed_total')) === 8, {
      timeoutMs: 10_000,
      description: 'all 8 messages counted',
    })
    expect(await harness.metric('audit_normalizer_events_dropped_total', { route: 'drop-debug' })).toBe(1)
    expect(await harness.metric('audit_normalizer_messages_skipped_total', { reason: 'TOMBSTONE' })).toBe(1)
    expect(await harness.metric('audit_normalizer_events_produced_total', { topic: outA })).toBe(6)
    expect(await harness.metric('audit_normalizer_events_produced_total', { route: 'security' })).toBe(2)
    await expectCommittedToEnd(harness)
  })

  it('reads every topic matching NORMALIZER_INPUT_TOPIC_PATTERN', async () => {
    const prefix = uniqueName('norm_pattern')
    await createTopics(`${prefix}.web`, `${prefix}.mobile`, `${prefix}x.other`)
    const out = uniqueName('norm_out')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      NORMALIZER_INPUT_TOPIC_PATTERN: `${prefix.replaceAll('.', '\\.')}\\.(web|mobile)`,
    })
    const collector = await collect(out)
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    const [web, mobile, other] = [ticketCreated, ticketRaised, ticketLowered]
    await producer.send({ topic: `${prefix}.web`, messages: [{ value: jsonEvent(web) }] })
    await producer.send({ topic: `${prefix}.mobile`, messages: [{ value: jsonEvent(mobile) }] })
    await producer.send({ topic: `${prefix}x.other`, messages: [{ value: jsonEvent(other) }] })
    const events = await decoded(await until(collector, out, 2))
    expect(events.map((e) => e.event_id).sort()).toEqual(
      [web, mobile].map((line) => parseEventJson(JSON.parse(line)).event_id).sort(),
    )
    // The third topic does not match: nothing of it is read.
    await waitFor(async () => (await harness.metric('audit_normalizer_messages_consumed_total')) === 2, {
      timeoutMs: 10_000,
    })
    expect(
      await harness.metric('audit_normalizer_messages_consumed_total', { topic: `${prefix}x.other` }),
    ).toBe(0)
  })

  it('scales out: two instances in one group share the partitions and every event arrives once', async () => {
    const input = uniqueName('norm_in')
    const out = uniqueName('norm_out')
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 4 },
        { topic: out, numPartitions: 2 },
      ],
      waitForLeaders: true,
    })
    const routesFile = join(mkdtempSync(join(tmpdir(), 'normalizer-scale-')), 'routes.yaml')
    writeFileSync(routesFile, `default:\n  to: [${out}]\n`)
    const groupId = uniqueName('normalizer-scale')
    const registries: Registry[] = []
    for (let instance = 0; instance < 2; instance++) {
      const config = loadNormalizerConfig({
        KAFKA_BROKERS: stack.kafkaBrokers.join(','),
        SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
        NORMALIZER_INPUT_TOPICS: input,
        NORMALIZER_GROUP_ID: groupId,
        NORMALIZER_ROUTES_FILE: routesFile,
        NORMALIZER_DEAD_LETTER_TOPIC: uniqueName('norm_dlq'),
      })
      const metrics = new Registry()
      registries.push(metrics)
      const normalizer = createNormalizer({
        config,
        kafka,
        codec: await testCodec(),
        metrics: createNormalizerMetrics(metrics),
        log: createLogger({ service: 'normalizer', level: 'silent' }),
      })
      await normalizer.start()
      onTestFinished(() => normalizer.stop())
    }
    // Both members in a settled group before anything is sent, so the split is not left to a race.
    await waitFor(
      async () => {
        const { groups } = await admin.describeGroups([groupId])
        return groups[0]?.state === 'Stable' && groups[0].members.length === 2
      },
      { timeoutMs: 30_000, description: 'a stable group of two members' },
    )
    const collector = await collect(out)
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    const lines = Array.from({ length: 400 }, (_, i) =>
      jsonEvent(ticketCreated, { event_id: randomUUID(), object: { type: 'ticket', id: `T-${i}` } }),
    )
    await producer.send({ topic: input, messages: lines.map((value) => ({ value })) })

    const messages = await until(collector, out, 400)
    const ids = (await decoded(messages)).map((e) => e.event_id)
    expect(new Set(ids).size).toBe(400)
    const consumedBy = await Promise.all(
      registries.map(
        async (metrics) =>
          (await metrics.getSingleMetric('audit_normalizer_messages_consumed_total')?.get())?.values.reduce(
            (sum, v) => sum + v.value,
            0,
          ) ?? 0,
      ),
    )
    // Both took part, and together they read each message once.
    expect(consumedBy.every((count) => count > 0)).toBe(true)
    expect(consumedBy[0]! + consumedBy[1]!).toBe(400)
  })

  it('dead-letters each kind of bad input with its bytes and why, and the partition keeps flowing', async () => {
    const out = uniqueName('norm_out')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      NORMALIZER_MAX_EVENT_BYTES: '20000',
    })
    const codec = await testCodec()
    const body = codec.encode({ ...parseEventJson(JSON.parse(ticketCreated)), recorded_at: 1 }).subarray(5)
    const bad: { kind: string; value: Buffer; errorClass: string; reason?: string; message: RegExp }[] = [
      {
        kind: 'undecodable Avro',
        value: writeWireHeader(codec.schemaId, Buffer.from([0xff, 0xff, 0xff])),
        errorClass: 'EVENT_UNDECODABLE',
        message: /does not decode with schema id/,
      },
      {
        kind: 'wrong magic byte',
        value: Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), body]),
        errorClass: 'EVENT_UNDECODABLE',
        reason: 'WRONG_MAGIC_BYTE',
        message: /starts with byte 0x01/,
      },
      {
        kind: 'unknown schema id',
        value: writeWireHeader(1_999_999_999, body),
        errorClass: 'SCHEMA_UNKNOWN',
        message: /no schema with id 1999999999/,
      },
      {
        kind: 'invalid fields',
        value: Buffer.from(jsonEvent(ticketCreated, { occurred_at: 'yesterday', actor: null })),
        errorClass: 'EVENT_INVALID',
        message: /occurred_at/,
      },
      {
        kind: 'not JSON',
        value: Buffer.from('ticket 9548-B1 deleted'),
        errorClass: 'INPUT_REJECTED',
        reason: 'NOT_JSON',
        message: /not UTF-8 JSON text/,
      },
      {
        kind: 'oversize',
        value: Buffer.from(jsonEvent(ticketCreated, { attributes: { note: 'x'.repeat(25_000) } })),
        errorClass: 'EVENT_TOO_LARGE',
        message: /over the 20000-byte limit/,
      },
      {
        // Its dead letter carries all of it: more than the room an event within the limit needs.
        kind: 'oversize, far beyond the limit',
        value: Buffer.from(jsonEvent(ticketCreated, { attributes: { note: 'x'.repeat(200_000) } })),
        errorClass: 'EVENT_TOO_LARGE',
        message: /over the 20000-byte limit/,
      },
    ]
    const collector = await collect(out, harness.deadLetters)
    await harness.send([
      ...bad.map(({ kind, value }) => ({ value, key: 'k-1', headers: { 'x-test-kind': kind } })),
      { value: jsonEvent(ticketRaised) },
    ])

    const [good] = await decoded(await until(collector, out, 1))
    expect(good?.event_id).toBe(parseEventJson(JSON.parse(ticketRaised)).event_id)
    const letters = await until(collector, harness.deadLetters, bad.length)
    expect(letters).toHaveLength(bad.length)
    for (const [index, expected] of bad.entries()) {
      const raw = letters.find((m) => m.headers?.['x-test-kind']?.toString() === expected.kind)
      expect(raw, expected.kind).toBeDefined()
      const letter = readDeadLetter(raw!, {
        topic: raw!.topic,
        partition: raw!.partition,
        offset: raw!.offset,
      })
      expect(letter.value?.equals(expected.value), expected.kind).toBe(true)
      expect(letter.key?.toString()).toBe('k-1')
      expect(letter).toMatchObject({
        errorClass: expected.errorClass,
        service: 'normalizer',
        source: { topic: harness.input, partition: 0, offset: String(index) },
      })
      if (expected.reason) expect(letter.reason).toBe(expected.reason)
      expect(letter.message).toMatch(expected.message)
      expect(Number(raw!.headers?.[deadLetterHeaderNames.sourceTimestamp]?.toString())).toBeGreaterThan(0)
      expect(Date.parse(raw!.headers?.[deadLetterHeaderNames.failedAt]?.toString() ?? '')).toBeGreaterThan(0)
    }
    for (const errorClass of [
      'EVENT_UNDECODABLE',
      'SCHEMA_UNKNOWN',
      'EVENT_INVALID',
      'INPUT_REJECTED',
      'EVENT_TOO_LARGE',
    ]) {
      expect(
        await harness.metric('audit_normalizer_events_dead_lettered_total', { reason: errorClass }),
      ).toBe(bad.filter((b) => b.errorClass === errorClass).length)
    }
    await expectCommittedToEnd(harness)
  })

  it('dead-letters events nested 6,000 deep, Avro and JSON, and delivers the event behind them', async () => {
    const out = uniqueName('norm_out')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`)
    const codec = await testCodec()
    const nested = `${'['.repeat(6_000)}1${']'.repeat(6_000)}`
    // The poison pill of the report: a 12 KB Avro event whose `before` snapshot nests 6,000 deep.
    const avroPill = codec.encode({
      ...parseEventJson(JSON.parse(ticketRaised)),
      before: `{"deep":${nested}}`,
      recorded_at: 1,
    })
    const jsonPill = Buffer.from(jsonEvent(ticketRaised).replace(/"after":\{/, `"after":{"deep":${nested},`))
    const collector = await collect(out, harness.deadLetters)
    await harness.send([
      { value: avroPill, headers: { 'x-test-kind': 'avro' } },
      { value: jsonPill, headers: { 'x-test-kind': 'json' } },
      { value: jsonEvent(ticketLowered) },
    ])

    const [good] = await decoded(await until(collector, out, 1))
    expect(good?.event_id).toBe(parseEventJson(JSON.parse(ticketLowered)).event_id)
    const letters = await until(collector, harness.deadLetters, 2)
    const letterOf = (kind: string) => {
      const raw = letters.find((m) => m.headers?.['x-test-kind']?.toString() === kind)!
      return readDeadLetter(raw, { topic: raw.topic, partition: raw.partition, offset: raw.offset })
    }
    expect(letterOf('avro')).toMatchObject({
      errorClass: 'EVENT_TOO_DEEP',
      message: expect.stringMatching(/^before nests objects and arrays more than 64 levels deep/) as string,
    })
    expect(letterOf('json')).toMatchObject({
      errorClass: 'EVENT_TOO_DEEP',
      message: expect.stringMatching(/^message nests objects and arrays more than 72 levels deep/) as string,
    })
    expect(
      await harness.metric('audit_normalizer_events_dead_lettered_total', { reason: 'EVENT_TOO_DEEP' }),
    ).toBe(2)
    await expectCommittedToEnd(harness)
  })

  it('holds a message while the registry is unreachable, never dead-letters it, and sends it once it is back', async () => {
    const proxy = await startProxy(new URL(stack.schemaRegistryUrl))
    onTestFinished(() => proxy.close())
    const out = uniqueName('norm_out')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl.replace(/\/\/[^/]+/, `//127.0.0.1:${proxy.port}`),
    })
    // A writer schema the normalizer has not fetched yet: reading it needs the registry.
    const schema = structuredClone(currentSchema(auditEventContract)) as AvroSchema & { doc?: string }
    schema.doc = `written by ${uniqueName('producer')}`
    const writerId = (
      await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject: uniqueName('outage') },
      )
    ).id
    const event = {
      ...parseEventJson(JSON.parse(ticketLowered)),
      recorded_at: Date.parse('2024-03-16T13:12:01Z'),
    }
    const collector = await collect(out, harness.deadLetters)

    await proxy.down()
    await harness.send([
      { value: writeWireHeader(writerId, avro.Type.forSchema(schema as avro.Schema).toBuffer(event)) },
    ])
    await waitFor(async () => (await harness.metric('audit_normalizer_registry_retries_total')) >= 2, {
      timeoutMs: 30_000,
      description: 'retries while the registry is down',
    })
    expect(collector.messages).toEqual([])

    await proxy.up()
    const [arrived] = await decoded(await until(collector, out, 1))
    expect(arrived).toEqual(event)
    expect(collector.messages.filter((m) => m.topic === harness.deadLetters)).toEqual([])
    await expectCommittedToEnd(harness)
  })

  it('seals an encrypting tenant’s sensitive values with the key store of FIELD_KEYS_*, no key in a path', async () => {
    const out = uniqueName('norm_out')
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const kekFile = join(dir, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    const policyFile = join(dir, 'redaction.yaml')
    writeFileSync(
      policyFile,
      'tenants:\n  witify: { method: encrypt, sensitive_fields: [solution, customer.emails] }\n',
    )
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      NORMALIZER_REDACTION_FILE: policyFile,
      FIELD_KEYS_DIR: join(dir, 'keys'),
      FIELD_KEYS_KEK_FILE: kekFile,
    })
    const collector = await collect(out)
    const withKeyInPath = jsonEvent(ticketRaised, {
      changes: [{ path: 'customer.emails["bob@example.com"]', new_value: 'work' }],
    })
    await harness.send([{ value: jsonEvent(ticketLowered) }, { value: withKeyInPath }])
    const events = await decoded(await until(collector, out, 2))
    const [lowered, raised] = events
    expect(lowered?.changes.map((change) => change.path)).toEqual(['priority', 'solution'])
    expect(JSON.parse(lowered?.changes[1]?.new_value ?? 'null')).toMatch(sealedValuePattern)
    expect(raised?.changes.map((change) => [change.path, change.value_type])).toEqual([
      ['customer.emails', 'object'],
    ])
    expect(JSON.stringify(events)).not.toMatch(/Save as PDF|bob@example/)
    // Whoever holds the store opens them again.
    const keys = openLocalKeyStore({
      directory: join(dir, 'keys'),
      keyEncryptionKey: await readKeyEncryptionKeyFile(kekFile),
    })
    const [opened] = await openEvents(events, keys)
    expect(opened?.changes).toEqual(parseEventJson(JSON.parse(ticketLowered)).changes)
  })

  it('seals the dead letter of an encrypting tenant’s refused message: a replay opens it, an erasure makes it go', async () => {
    const out = uniqueName('norm_out')
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const kekFile = join(dir, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    const policyFile = join(dir, 'redaction.yaml')
    writeFileSync(policyFile, 'tenants:\n  witify: { method: encrypt }\n')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      NORMALIZER_REDACTION_FILE: policyFile,
      FIELD_KEYS_DIR: join(dir, 'keys'),
      FIELD_KEYS_KEK_FILE: kekFile,
    })
    const collector = await collect(out, harness.deadLetters)
    // Jack Peltrow's (u-1002) event, raw JSON, refused for a field its error message quotes.
    const refused = Buffer.from(jsonEvent(ticketRaised, { 'jack.peltrow@example.com': true }))
    await harness.send([
      { value: refused, key: 'witify/ticket/9548-B1', headers: { 'x-trace': 'abc' } },
      { value: jsonEvent(ticketLowered) },
    ])

    await until(collector, out, 1)
    const [raw] = await until(collector, harness.deadLetters, 1)
    const stored = [
      raw!.value?.toString('latin1') ?? '',
      ...Object.entries(raw!.headers ?? {}).map(([name, value]) => `${name}=${String(value)}`),
    ].join('\n')
    expect(stored).not.toMatch(/peltrow|u-1002|Export to PDF|helpdesk/i)
    const letter = readDeadLetter(raw!, { topic: raw!.topic, partition: raw!.partition, offset: raw!.offset })
    expect(letter).toMatchObject({
      errorClass: 'EVENT_INVALID',
      key: Buffer.from('witify/ticket/9548-B1'),
      originalHeaders: { 'x-trace': Buffer.from('abc') },
      source: { topic: harness.input, partition: 0, offset: '0' },
      sealed: { keyId: expect.stringMatching(/^k/) as string },
    })
    await expectCommittedToEnd(harness)

    // Replayed as it is (nothing fixed), to a topic of its own: the original bytes, opened.
    const keys = openLocalKeyStore({
      directory: join(dir, 'keys'),
      keyEncryptionKey: await readKeyEncryptionKeyFile(kekFile),
      cacheMs: 0,
    })
    const replayTo = uniqueName('norm_replayed')
    await createTopics(replayTo)
    const replayed = await collect(replayTo)
    expect(await replayDeadLetters({ kafka, topic: harness.deadLetters, to: replayTo, keys })).toMatchObject({
      replayed: 1,
      refused: [],
      byTarget: { [replayTo]: 1 },
    })
    const [back] = await until(replayed, replayTo, 1)
    expect(back!.value?.equals(refused)).toBe(true)
    expect(back!.key?.toString()).toBe('witify/ticket/9548-B1')
    expect(back!.headers?.['x-trace']?.toString()).toBe('abc')

    // Jack is erased: his dead letter no longer opens, and a replay refuses it.
    await keys.erase('witify', 'u-1002')
    expect(await deadLetterOpener(keys)(letter as SealedDeadLetter)).toMatchObject({ state: 'erased' })
    const again = await replayDeadLetters({
      kafka,
      topic: harness.deadLetters,
      to: replayTo,
      keys,
      fromStart: true,
    })
    expect(again).toMatchObject({
      replayed: 0,
      refused: [{ reason: 'erased', keyId: letter.sealed?.keyId, dlq: letter.dlq }],
    })
    expect(again.refused[0]?.message).toMatch(/not replayed, its key .* was erased at/)
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    const offsets = await admin.fetchTopicOffsets(replayTo)
    expect(offsets.reduce((sum, { high }) => sum + Number(high), 0)).toBe(1)
  })

  it('reduces events to the levels of NORMALIZER_LEVELS_FILE: temporal 1 marked for the sink, informative 1 without changes', async () => {
    const out = uniqueName('norm_out')
    const dir = mkdtempSync(join(tmpdir(), 'normalizer-levels-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const levelsFile = join(dir, 'levels.yaml')
    writeFileSync(
      levelsFile,
      [
        'rules:',
        '  - { tenant: witify, object_type: ticket, temporal: 1 }',
        '  - { source: legacy-crm, informative: 1 }',
        '',
      ].join('\n'),
    )
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`, {
      NORMALIZER_LEVELS_FILE: levelsFile,
    })
    const collector = await collect(out)
    const ids = {
      latestOnly: '5b0c3e9a-7d21-4f6e-8a3b-2c4d6e8f0a01',
      legacy: '5b0c3e9a-7d21-4f6e-8a3b-2c4d6e8f0a02',
      full: '5b0c3e9a-7d21-4f6e-8a3b-2c4d6e8f0a03',
    }
    await harness.send([
      { value: jsonEvent(ticketLowered, { event_id: ids.latestOnly }) },
      {
        value: jsonEvent(ticketLowered, {
          event_id: ids.legacy,
          tenant: 'acme',
          source: { service: 'legacy-crm' },
        }),
      },
      { value: jsonEvent(ticketLowered, { event_id: ids.full, tenant: 'acme' }) },
    ])
    const messages = await until(collector, out, 3)
    const events = await decoded(messages)
    const sent = (id: string) => {
      const index = events.findIndex((event) => event.event_id === id)
      return { event: events[index]!, headers: messages[index]!.headers ?? {} }
    }
    const asSent = parseEventJson(JSON.parse(ticketLowered))

    // witify's tickets: temporal 1, marked for the sink's one-row-per-record table; all else kept.
    const latestOnly = sent(ids.latestOnly)
    expect(latestOnly.headers['audit-temporal-level']?.toString()).toBe('1')
    expect(latestOnly.event.changes).toEqual(asSent.changes)
    expect(latestOnly.event.occurred_at).toBe(asSent.occurred_at)

    // The legacy CRM's events: informative 1, who did which action to which object, no more.
    const legacy = sent(ids.legacy)
    expect(legacy.headers['audit-temporal-level']).toBeUndefined()
    expect(legacy.event).toMatchObject({
      changes: [],
      before: null,
      after: null,
      sensitive_fields: [],
      actor: { display_name: 'Stefany Ilds' },
      action: asSent.action,
      object: asSent.object,
    })
    expect(JSON.stringify(legacy.event)).not.toMatch(/Urgent|Normal|priority|solution/)

    // Matched by no rule: 3/3, as without a file.
    const full = sent(ids.full)
    expect(full.headers['audit-temporal-level']).toBeUndefined()
    expect(full.event.changes).toEqual(asSent.changes)

    await waitFor(async () => (await harness.metric('audit_normalizer_messages_consumed_total')) === 3, {
      timeoutMs: 10_000,
    })
    expect(
      await harness.metric('audit_normalizer_events_reduced_total', { temporal: '1', informative: '3' }),
    ).toBe(1)
    expect(
      await harness.metric('audit_normalizer_events_reduced_total', { temporal: '3', informative: '1' }),
    ).toBe(1)
    expect(await harness.metric('audit_normalizer_events_reduced_total')).toBe(2)
    await expectCommittedToEnd(harness)
  })

  it('drops a repeated event_id within the window and counts it', async () => {
    const out = uniqueName('norm_out')
    const harness = await startNormalizer(`default:\n  to: [${out}]\n`)
    const collector = await collect(out)
    await harness.send([{ value: jsonEvent(ticketCreated) }, { value: jsonEvent(ticketRaised) }])
    await until(collector, out, 2)
    await harness.send([{ value: jsonEvent(ticketCreated) }, { value: jsonEvent(ticketLowered) }])
    const events = await decoded(await until(collector, out, 3))
    await waitFor(async () => (await harness.metric('audit_normalizer_messages_consumed_total')) === 4, {
      timeoutMs: 10_000,
    })
    expect(await harness.metric('audit_normalizer_duplicates_dropped_total')).toBe(1)
    expect(collector.messages.filter((m) => m.topic === out)).toHaveLength(3)
    expect(events.map((e) => e.event_id)).toEqual(
      [ticketCreated, ticketRaised, ticketLowered].map((line) => parseEventJson(JSON.parse(line)).event_id),
    )
  })

  it('switches to reloaded routes between messages, creating new topics, and keeps its routes when the file is bad', async () => {
    const first = uniqueName('norm_first')
    const second = uniqueName('norm_second')
    const harness = await startNormalizer(`default:\n  to: [${first}]\n`)
    const collector = await collect(first)
    await harness.send([{ value: jsonEvent(ticketCreated) }])
    await until(collector, first, 1)

    writeFileSync(harness.routesFile, `default:\n  to: [${second}]\n`)
    await harness.normalizer.reloadRoutes()
    expect(await harness.metric('audit_normalizer_route_reloads_total', { result: 'applied' })).toBe(1)
    const secondCollector = await collect(second)
    await harness.send([{ value: jsonEvent(ticketRaised) }])
    await until(secondCollector, second, 1)

    writeFileSync(harness.routesFile, `default:\n  to: [${first}]\nroutes: [{ name: x }]\n`)
    await harness.normalizer.reloadRoutes()
    expect(await harness.metric('audit_normalizer_route_reloads_total', { result: 'refused' })).toBe(1)
    await harness.send([{ value: jsonEvent(ticketLowered) }])
    await until(secondCollector, second, 2)
    expect(collector.messages.filter((m) => m.topic === first)).toHaveLength(1)
  })
})

/** The group's committed offsets are the input's end offsets: nothing left behind, nothing skipped. */
function expectCommittedToEnd(harness: Harness): Promise<void> {
  return waitForCommittedToEnd(kafka, harness.groupId, harness.input)
}

/** A TCP proxy to the registry that the test can take down and bring back on the same port. */
async function startProxy(target: URL) {
  let server: Server | undefined
  const sockets = new Set<Socket>()
  let port = 0
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port), target.hostname)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('close', () => sockets.delete(socket))
          socket.on('error', () => socket.destroy())
        }
        client.pipe(upstream).pipe(client)
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port
        resolve()
      })
    })
  const down = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      if (!server) return resolve()
      server.close(() => resolve())
      server = undefined
    })
  await up()
  return { port, up, down, close: down }
}
