import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { Webhook } from 'standardwebhooks'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { checkpointHash, verifyCheckpointSignature, type SignedCheckpoint } from '@audit-pipeline/integrity'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { forwardedEvents } from '../../../test/forwarder/events.js'
import { startHttpReceiver, type HttpReceiver } from '../../../test/forwarder/receivers.js'
import { destinationTopics, loadForwarderConfig } from './config.js'
import { parseDestinations } from './destinations/parseDestinations.js'
import { createForwarder, ForwarderStartError } from './forwarder.js'
import { createForwarderMetrics } from './metrics.js'
import { checkpointMessage, signedCheckpoints, testSigningKey } from './testing/signedCheckpoints.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'anchoring-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`

/** A forwarder of its own topics and groups, reading `checkpointTopic` for its checkpoints destinations. */
async function setUp(destinationsYaml: string, topics: { input: string; checkpointTopic: string }) {
  const prefix = uniqueName('fwd_anchor')
  const config = loadForwarderConfig({
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    FORWARDER_DESTINATIONS_FILE: 'test.yaml',
    FORWARDER_INPUT_TOPICS: topics.input,
    FORWARDER_CHECKPOINT_TOPIC: topics.checkpointTopic,
    FORWARDER_GROUP_ID_PREFIX: prefix,
    FORWARDER_DEAD_LETTER_TOPIC_PREFIX: `${prefix}.dlq.`,
    FORWARDER_RETRY_TOPIC_PREFIX: `${prefix}.retry.`,
    FORWARDER_SESSION_TIMEOUT_MS: '10000',
    FORWARDER_SHUTDOWN_DEADLINE_MS: '5000',
  })
  const destinations = parseDestinations(destinationsYaml, {
    file: 'test.yaml',
    env: { SECRET: secret },
    readFile: () => '',
    defaultHostname: 'test-host',
  })
  const codec = await createAuditEventCodec({
    registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
  })
  const registry = new Registry()
  const forwarder = createForwarder({
    config,
    destinations,
    kafka,
    codec,
    metrics: createForwarderMetrics(registry),
    log: createLogger({ service: 'forwarder', level: 'silent' }),
  })
  return {
    codec,
    forwarder,
    topicsOf: (name: string) => destinationTopics(config, name),
    async metric(name: string, labels: Record<string, string>) {
      const metric = await registry.getSingleMetric(name)?.get()
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0)
    },
  }
}

/** What the 2xx-answered requests of a JSON-array webhook receiver carried, in arrival order. */
function received<T>(receiver: HttpReceiver): T[] {
  return receiver.requests.filter((r) => r.status < 300).flatMap((r) => JSON.parse(r.body) as T[])
}

describe('anchoring checkpoints', () => {
  it('delivers every signed checkpoint once, unchanged and verifiable, dead-letters a message that is none, and leaves events destinations as they were', async () => {
    const input = uniqueName('fwd_anchor_in')
    const checkpointTopic = uniqueName('fwd_anchor_checkpoints')
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 2 },
        // As the sink makes it: compacted, one partition.
        {
          topic: checkpointTopic,
          numPartitions: 1,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      waitForLeaders: true,
    })
    await admin.disconnect()

    const [anchor, hook] = await Promise.all([startHttpReceiver(), startHttpReceiver()])
    const harness = await setUp(
      `
destinations:
  - name: anchor
    kind: webhook
    input: checkpoints
    url: ${anchor.url}/anchor
    signing_secret_env: SECRET
    batch: { max_events: 3, max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
  - name: hook
    kind: webhook
    url: ${hook.url}/events
    signing_secret_env: SECRET
    batch: { max_age_ms: 100 }
    allowed_private_addresses: [127.0.0.1]
`,
      { input, checkpointTopic },
    )
    await harness.forwarder.start()
    onTestFinished(() => harness.forwarder.stop())

    const { key, keys } = testSigningKey()
    const checkpoints = [
      ...signedCheckpoints({ tenant: 'witify', chain: 'audit.normalized/0', count: 4, key }),
      ...signedCheckpoints({ tenant: 'acme', chain: 'audit.normalized/3', count: 3, key }),
    ]
    // Offset 4: valid JSON in the checkpoint form, without its fields.
    const invalid = { key: 'bogus/0/0', value: '{"form":"audit-pipeline/checkpoint/1"}' }
    const events = forwardedEvents(12)
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    await producer.send({
      topic: checkpointTopic,
      acks: -1,
      messages: [
        ...checkpoints.slice(0, 4).map(checkpointMessage),
        invalid,
        ...checkpoints.slice(4).map(checkpointMessage),
      ],
    })
    await producer.send({
      topic: input,
      acks: -1,
      messages: events.map((event) => ({ key: event.object.id, value: harness.codec.encode(event) })),
    })

    const anchorTopics = harness.topicsOf('anchor')
    await waitForCommittedToEnd(kafka, anchorTopics.groupId, checkpointTopic, 60_000)
    // Every checkpoint once, in the order published (one partition), exactly as signed.
    const anchored = received<SignedCheckpoint>(anchor)
    expect(anchored).toEqual(checkpoints)
    expect(new Set(anchored.map(checkpointHash)).size).toBe(checkpoints.length)
    for (const checkpoint of anchored) expect(verifyCheckpointSignature(checkpoint, keys)).toBe('valid')
    expect(anchor.requests.length).toBeGreaterThanOrEqual(Math.ceil(checkpoints.length / 3))
    for (const request of anchor.requests) {
      expect(request.path).toBe('/anchor')
      expect(request.headers['audit-payload']).toBe('checkpoints')
      expect(request.headers['content-type']).toBe('application/json')
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toBeTruthy()
    }

    const letters = await collectTopics(kafka, [anchorTopics.deadLetterTopic])
    onTestFinished(() => letters.stop())
    await waitFor(() => letters.messages.length === 1, { timeoutMs: 30_000, description: 'one dead letter' })
    const [letter] = letters.messages.map((m) =>
      readDeadLetter(m, { topic: m.topic, partition: m.partition, offset: m.offset }),
    )
    expect(letter).toMatchObject({
      errorClass: 'CHECKPOINT_INVALID',
      message: `${checkpointTopic} partition 0 offset 4 is not a signed checkpoint: tenant is missing`,
      service: 'forwarder:anchor',
      source: { topic: checkpointTopic, partition: 0, offset: '4' },
    })
    expect(letter?.value?.toString()).toBe(invalid.value)
    expect(letter?.key?.toString()).toBe(invalid.key)

    // The events destination: every event, no checkpoint, requests as before (no payload header).
    await waitForCommittedToEnd(kafka, harness.topicsOf('hook').groupId, input, 60_000)
    const forwarded = received<{ event_id: string; form?: string }>(hook)
    expect(forwarded.map((e) => e.event_id).sort()).toEqual(events.map((e) => e.event_id).sort())
    expect(forwarded.every((e) => e.form === undefined)).toBe(true)
    for (const request of hook.requests) expect(request.headers['audit-payload']).toBeUndefined()

    expect(await harness.metric('audit_forwarder_events_delivered_total', { destination: 'anchor' })).toBe(
      checkpoints.length,
    )
    expect(
      await harness.metric('audit_forwarder_events_dead_lettered_total', {
        destination: 'anchor',
        error_class: 'CHECKPOINT_INVALID',
      }),
    ).toBe(1)
    expect(await harness.metric('audit_forwarder_events_delivered_total', { destination: 'hook' })).toBe(
      events.length,
    )
    expect(await harness.metric('audit_forwarder_events_dead_lettered_total', { destination: 'hook' })).toBe(
      0,
    )
  })

  it('refuses to start when the checkpoints topic is missing, naming FORWARDER_CHECKPOINT_TOPIC, and does not create it', async () => {
    // Only a checkpoints destination: the forwarded topics are not needed (this one does not exist).
    const input = uniqueName('fwd_anchor_absent_in')
    const checkpointTopic = uniqueName('fwd_anchor_absent')
    const anchor = await startHttpReceiver()
    const harness = await setUp(
      `
destinations:
  - name: anchor
    kind: webhook
    input: checkpoints
    url: ${anchor.url}/
    allowed_private_addresses: [127.0.0.1]
`,
      { input, checkpointTopic },
    )
    onTestFinished(() => harness.forwarder.stop())
    const error = await harness.forwarder.start().catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ForwarderStartError)
    expect((error as Error).message).toBe(
      `checkpoints topic missing: ${checkpointTopic} (FORWARDER_CHECKPOINT_TOPIC); start the ClickHouse sink with a signing key, which creates it (its SINK_CHECKPOINT_TOPIC), or name the topic it writes`,
    )
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    const existing = await admin.listTopics()
    expect(existing).not.toContain(checkpointTopic)
    expect(existing).not.toContain(input)
  })
})
