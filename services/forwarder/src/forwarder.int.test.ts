import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { Webhook } from 'standardwebhooks'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter, replayDeadLetters } from '@audit-pipeline/dead-letter'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { firstOutOfOrder, forwardedEvents, sensitiveValue } from '../../../test/forwarder/events.js'
import {
  startHttpReceiver,
  startSyslogReceiver,
  type HttpReceiver,
} from '../../../test/forwarder/receivers.js'
import { destinationTopics, loadForwarderConfig } from './config.js'
import { parseDestinations } from './destinations/parseDestinations.js'
import { createForwarder, ForwarderStartError } from './forwarder.js'
import { createForwarderMetrics } from './metrics.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'forwarder-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () =>
  (sharedCodec ??= createAuditEventCodec({ registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }) }))
const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`

type ProjectedEvent = {
  event_id: string
  content_digest?: string
  object?: { id?: string }
  attributes?: { seq?: string }
}

async function setUp(destinationsYaml: string, options: { createInput?: boolean } = {}) {
  const input = uniqueName('fwd_in')
  if (options.createInput !== false) {
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 3 }], waitForLeaders: true })
    await admin.disconnect()
  }
  const prefix = uniqueName('fwd')
  const config = loadForwarderConfig({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    FORWARDER_DESTINATIONS_FILE: 'test.yaml',
    FORWARDER_INPUT_TOPICS: input,
    FORWARDER_GROUP_ID_PREFIX: prefix,
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${prefix}.dlq.`,
    FORWARDER_RETRY_TOPIC_PREFIX: `${prefix}.retry.`,
    FORWARDER_SESSION_TIMEOUT_MS: '10000',
    FORWARDER_SHUTDOWN_DEADLINE_MS: '5000',
  })
  const destinations = parseDestinations(destinationsYaml, {
    file: 'test.yaml',
    env: { SECRET: secret, HEC_TOKEN: 'hec-t0ken' },
    readFile: () => '',
    defaultHostname: 'test-host',
  })
  const registry = new Registry()
  const forwarder = createForwarder({
    config,
    destinations,
    kafka,
    codec: await testCodec(),
    metrics: createForwarderMetrics(registry),
    log: createLogger({
      service: 'forwarder',
      level: (process.env['FWD_TEST_LOG'] as 'info' | undefined) ?? 'silent',
    }),
  })
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  return {
    input,
    forwarder,
    topicsOf: (name: string) => destinationTopics(config, name),
    async start() {
      await forwarder.start()
      onTestFinished(() => forwarder.stop())
    },
    async send(events: readonly AuditEvent[], key?: string) {
      const codec = await testCodec()
      await producer.send({
        topic: input,
        acks: -1,
        messages: events.map((event) => ({ key: key ?? event.object.id, value: codec.encode(event) })),
      })
    },
    async metric(name: string, labels: Record<string, string>) {
      const metric = await registry.getSingleMetric(name)?.get()
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0)
    },
  }
}

/** Events in the 2xx-answered requests of a JSON-array webhook receiver, in arrival order. */
function deliveredEvents(receiver: HttpReceiver): ProjectedEvent[] {
  return receiver.requests
    .filter((r) => r.status < 300)
    .flatMap((r) => JSON.parse(r.body) as ProjectedEvent[])
}

const idsOf = (events: readonly { event_id: string }[]) => new Set(events.map((e) => e.event_id))

describe('forwarder', () => {
  it('delivers signed webhook batches, Splunk HEC events and syslog messages, filtered, redacted, in order per object', async () => {
    const [webhook, hec] = await Promise.all([
      startHttpReceiver(),
      startHttpReceiver(() => ({ status: 200, body: '{"text":"Success","code":0}' })),
    ])
    const syslog = await startSyslogReceiver()
    const harness = await setUp(`
destinations:
  - name: hook
    kind: webhook
    url: ${webhook.url}/audit
    signing_secret_env: SECRET
    filter: event.category == "security"
    batch: { max_events: 7, max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
  - name: splunk
    kind: splunk_hec
    url: ${hec.url}
    token_env: HEC_TOKEN
    index: audit
    batch: { max_events: 20, max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
  - name: siem
    kind: syslog
    host: 127.0.0.1
    port: ${syslog.port}
    fields: { exclude: [before, after, changes] }
    batch: { max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
`)
    await harness.start()
    const events = forwardedEvents(60)
    await harness.send(events)
    const security = events.filter((e) => e.category === 'security')

    await waitFor(() => idsOf(deliveredEvents(webhook)).size === security.length, {
      timeoutMs: 60_000,
      description: 'every security event at the webhook',
    })
    const delivered = deliveredEvents(webhook)
    expect(idsOf(delivered)).toEqual(idsOf(security))
    expect(firstOutOfOrder(delivered)).toBeUndefined()
    for (const request of webhook.requests) {
      expect(request.path).toBe('/audit')
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toBeTruthy()
      expect(request.body).not.toContain(sensitiveValue)
      expect((JSON.parse(request.body) as unknown[]).length).toBeLessThanOrEqual(7)
    }
    expect(webhook.requests.length).toBeGreaterThanOrEqual(Math.ceil(security.length / 7))
    // Every copy's digest is the sent event's, through the Avro round trip, although the copies
    // are redacted (and, for syslog, projected).
    const digestOf = new Map(events.map((event) => [event.event_id, contentDigest(event)]))
    expect(delivered.map((copy) => copy.content_digest)).toEqual(
      delivered.map((copy) => digestOf.get(copy.event_id)),
    )

    await waitFor(() => hec.requests.flatMap((r) => r.body.split('\n')).length === events.length, {
      timeoutMs: 60_000,
      description: 'every event at Splunk HEC',
    })
    for (const request of hec.requests) {
      expect(request.path).toBe('/services/collector/event')
      expect(request.headers['authorization']).toBe('Splunk hec-t0ken')
    }
    const hecObjects = hec.requests.flatMap((r) =>
      r.body.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>),
    )
    expect(hecObjects[0]).toMatchObject({
      time: events[0]!.occurred_at / 1000,
      sourcetype: 'audit:event',
      index: 'audit',
      event: { tenant: 'witify' },
    })
    expect(Object.keys(hecObjects[0]!).sort()).toEqual(['event', 'index', 'sourcetype', 'time'])
    expect(new Set(hecObjects.map((o) => (o['event'] as ProjectedEvent).event_id))).toEqual(idsOf(events))
    const hecEvents = hecObjects.map((o) => o['event'] as ProjectedEvent)
    expect(hecEvents.map((e) => e.content_digest)).toEqual(hecEvents.map((e) => digestOf.get(e.event_id)))

    await waitFor(() => syslog.messages.length === events.length, {
      timeoutMs: 60_000,
      description: 'every event at the syslog receiver',
    })
    expect(syslog.malformed).toEqual([])
    const syslogIds = syslog.messages.map((message) => /\[audit@32473 event_id="([^"]+)"/.exec(message)?.[1])
    expect(new Set(syslogIds)).toEqual(idsOf(events))
    expect(syslog.messages[0]).toMatch(
      /^<\d+>1 \S+ test-host helpdesk-api - (security|business) \[audit@32473 /,
    )
    expect(syslog.messages.every((message) => !message.includes('"before"'))).toBe(true)
    for (const message of syslog.messages) {
      const [, id, digest] = /\[audit@32473 event_id="([^"]+)" content_digest="([^"]+)"/.exec(message) ?? []
      expect(digest).toMatch(/^[0-9a-f]{64}$/)
      expect(digest).toBe(digestOf.get(id!))
      expect((JSON.parse(message.slice(message.indexOf('] {') + 2)) as ProjectedEvent).content_digest).toBe(
        digest,
      )
    }

    for (const name of ['hook', 'splunk', 'siem'])
      await waitForCommittedToEnd(kafka, harness.topicsOf(name).groupId, harness.input, 30_000)
    expect(await harness.metric('audit_forwarder_events_delivered_total', { destination: 'hook' })).toBe(
      security.length,
    )
    expect(await harness.metric('audit_forwarder_events_filtered_out_total', { destination: 'hook' })).toBe(
      events.length - security.length,
    )
  })

  it('retries a destination that answers 503 for a while, dead-letters one that stays down while another flows, and replays to that one only', async () => {
    const flaky = await startHttpReceiver((_, index) =>
      index < 4 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 200 },
    )
    const down = await startHttpReceiver(() => ({ status: 503, body: 'maintenance' }))
    const healthy = await startHttpReceiver()
    const fast =
      'retry: { max_attempts: 3, initial_delay_ms: 20, max_delay_ms: 50 }\n    breaker: { reset_timeout_ms: 100 }'
    const harness = await setUp(`
destinations:
  - name: flaky
    kind: webhook
    url: ${flaky.url}/
    retry: { max_attempts: 20, initial_delay_ms: 20, max_delay_ms: 100 }
    breaker: { reset_timeout_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
  - name: down
    kind: webhook
    url: ${down.url}/
    ${fast}
    allowed_private_addresses: [127.0.0.1]
  - name: healthy
    kind: webhook
    url: ${healthy.url}/
    allowed_private_addresses: [127.0.0.1]
`)
    await harness.start()
    const events = forwardedEvents(40)
    await harness.send(events)

    await waitFor(() => idsOf(deliveredEvents(healthy)).size === events.length, {
      timeoutMs: 60_000,
      description: 'every event at the healthy destination',
    })
    await waitFor(() => idsOf(deliveredEvents(flaky)).size === events.length, {
      timeoutMs: 60_000,
      description: 'every event at the flaky destination',
    })
    expect(flaky.requests.slice(0, 4).map((r) => r.status)).toEqual([503, 503, 503, 503])
    expect(firstOutOfOrder(deliveredEvents(flaky))).toBeUndefined()
    expect(
      await harness.metric('audit_forwarder_delivery_retries_total', {
        destination: 'flaky',
        reason: 'HTTP_503',
      }),
    ).toBeGreaterThanOrEqual(4)

    const { deadLetterTopic, retryTopic, groupId } = harness.topicsOf('down')
    const letters = await collectTopics(kafka, [deadLetterTopic])
    onTestFinished(() => letters.stop())
    await waitFor(() => letters.messages.length === events.length, {
      timeoutMs: 60_000,
      description: 'every event in the dead-letter topic',
    })
    const dead = letters.messages.map((m) =>
      readDeadLetter(m, { topic: m.topic, partition: m.partition, offset: m.offset }),
    )
    expect(dead[0]).toMatchObject({
      errorClass: 'DESTINATION_UNAVAILABLE',
      reason: 'HTTP_503',
      message: 'HTTP 503: maintenance (gave up after 3 attempts)',
      service: 'forwarder:down',
      source: { topic: harness.input },
    })
    const codec = await testCodec()
    const deadIds = new Set(
      await Promise.all(dead.map(async (letter) => (await codec.decode(letter.value!)).event_id)),
    )
    expect(deadIds).toEqual(idsOf(events))
    await waitForCommittedToEnd(kafka, groupId, harness.input, 30_000)
    expect(
      await harness.metric('audit_forwarder_events_dead_lettered_total', {
        destination: 'down',
        error_class: 'DESTINATION_UNAVAILABLE',
      }),
    ).toBe(events.length)

    // The destination is back; the operator replays its dead letters to its retry topic.
    down.answerWith(() => ({ status: 200 }))
    const healthyRequests = healthy.requests.length
    const flakyRequests = flaky.requests.length
    const replay = await replayDeadLetters({ kafka, topic: deadLetterTopic, to: retryTopic })
    expect(replay.replayed).toBe(events.length)
    await waitFor(() => idsOf(deliveredEvents(down)).size === events.length, {
      timeoutMs: 60_000,
      description: 'replayed events at the recovered destination',
    })
    await waitForCommittedToEnd(kafka, groupId, retryTopic, 30_000)
    // The replay went to this destination's retry topic, which no other destination reads.
    expect(healthy.requests.length).toBe(healthyRequests)
    expect(flaky.requests.length).toBe(flakyRequests)
  })

  it('dead-letters a record whose preparation throws as RECORD_FAILED and delivers the events behind it', async () => {
    const webhook = await startHttpReceiver()
    const harness = await setUp(`
destinations:
  - name: hook
    kind: webhook
    url: ${webhook.url}/
    batch: { max_events: 4, max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
`)
    await harness.start()
    const [before, after] = [forwardedEvents(10), forwardedEvents(10)]
    // A snapshot nested 6,000 levels deep: redacting its sensitive field for the destination
    // refuses to walk it (the limit every service shares). One key: one partition, in this order.
    const poison: AuditEvent = {
      ...forwardedEvents(1)[0]!,
      before: `${'{"a":'.repeat(6_000)}1${'}'.repeat(6_000)}`,
    }
    await harness.send([...before, poison, ...after], 'one-object')

    const good = [...before, ...after]
    await waitFor(() => idsOf(deliveredEvents(webhook)).size === good.length, {
      timeoutMs: 60_000,
      description: 'the events before and after the poison record at the webhook',
    })
    expect(deliveredEvents(webhook).map((e) => e.event_id)).toEqual(good.map((e) => e.event_id))

    const { deadLetterTopic, groupId } = harness.topicsOf('hook')
    const letters = await collectTopics(kafka, [deadLetterTopic])
    onTestFinished(() => letters.stop())
    await waitFor(() => letters.messages.length === 1, {
      timeoutMs: 30_000,
      description: 'the poison record in the dead-letter topic',
    })
    const [letter] = letters.messages.map((m) =>
      readDeadLetter(m, { topic: m.topic, partition: m.partition, offset: m.offset }),
    )
    expect(letter).toMatchObject({
      errorClass: 'RECORD_FAILED',
      reason: 'TOO_DEEP',
      service: 'forwarder:hook',
      source: { topic: harness.input, offset: '10' },
    })
    expect((await (await testCodec()).decode(letter!.value!)).event_id).toBe(poison.event_id)
    await waitForCommittedToEnd(kafka, groupId, harness.input, 30_000)
    const group = { group: groupId }
    expect(
      await harness.metric('audit_forwarder_records_failed_total', {
        ...group,
        error_class: 'RECORD_FAILED',
      }),
    ).toBe(1)
    expect(await harness.metric('audit_forwarder_consumer_restarts_total', group)).toBe(0)
    expect(await harness.metric('audit_forwarder_events_delivered_total', { destination: 'hook' })).toBe(
      good.length,
    )
    await waitFor(async () => (await harness.metric('audit_forwarder_consumer_lag', group)) === 0, {
      timeoutMs: 10_000,
      description: 'no lag left',
    })
  })

  it('refuses to start when an input topic is missing, naming FORWARDER_INPUT_TOPICS', async () => {
    const webhook = await startHttpReceiver()
    const harness = await setUp(
      `
destinations:
  - name: hook
    kind: webhook
    url: ${webhook.url}/
    allowed_private_addresses: [127.0.0.1]
`,
      { createInput: false },
    )
    onTestFinished(() => harness.forwarder.stop())
    const error = await harness.forwarder.start().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ForwarderStartError)
    expect((error as Error).message).toBe(
      `input topics missing: ${harness.input} (FORWARDER_INPUT_TOPICS); create them, or start the normalizer, which creates its outputs`,
    )
  })

  it('refuses to start when a destination host resolves to a private address it is not allowed', async () => {
    const receiver = await startHttpReceiver()
    const harness = await setUp(`
destinations:
  - name: sneaky
    kind: webhook
    url: http://localhost:${receiver.port}/
`)
    const error = await harness.forwarder.start().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ForwarderStartError)
    expect((error as Error).message).toMatch(
      /^destination sneaky: refused to connect to localhost: it resolves to (127\.0\.0\.1|::1), a loopback address; list it in the destination's allowed_private_addresses/,
    )
    expect(receiver.requests).toHaveLength(0)
  })
})
