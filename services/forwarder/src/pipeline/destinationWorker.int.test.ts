import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import kafkajs, { Kafka, logLevel, type Producer } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { forwardedEvents } from '../../../../test/forwarder/events.js'
import { startHttpReceiver } from '../../../../test/forwarder/receivers.js'
import { loadForwarderConfig } from '../config.js'
import { parseDestinations } from '../destinations/parseDestinations.js'
import { createForwarderMetrics } from '../metrics.js'
import { createHttpTransport } from '../senders/httpTransport.js'
import { createDestinationWorker } from './destinationWorker.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'worker-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })

describe('destination worker', () => {
  it('restarts from the last commit when dead letters cannot be written, delivering the batch again instead of exiting', async () => {
    const input = uniqueName('fwd_worker_in')
    const deadLetterTopic = uniqueName('fwd_worker_dlq')
    const retryTopic = uniqueName('fwd_worker_retry')
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({
      topics: [input, deadLetterTopic, retryTopic].map((topic) => ({ topic, numPartitions: 1 })),
      waitForLeaders: true,
    })
    await admin.disconnect()

    const codec = await createAuditEventCodec({
      registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
    })
    const events = forwardedEvents(6)
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    await producer.send({
      topic: input,
      acks: -1,
      messages: [
        ...events.slice(0, 3).map((event) => ({ key: 'k', value: codec.encode(event) })),
        { key: 'k', value: Buffer.from('not avro') },
        ...events.slice(3).map((event) => ({ key: 'k', value: codec.encode(event) })),
      ],
    })

    // The first dead-letter write fails as a broker that went away would; the next ones go through.
    let deadLetterWrites = 0
    const flakyProducer: Producer = {
      ...producer,
      send: (record) =>
        deadLetterWrites++ === 0
          ? Promise.reject(
              new kafkajs.KafkaJSNumberOfRetriesExceeded(new Error('broker gone'), {
                retryCount: 5,
                retryTime: 1000,
              }),
            )
          : producer.send(record),
    }

    const webhook = await startHttpReceiver()
    const [destination] = parseDestinations(
      `destinations:\n  - name: hook\n    kind: webhook\n    url: ${webhook.url}/\n    batch: { max_events: 100, max_age_ms: 100 }\n    allowed_private_addresses: [127.0.0.1]\n`,
      { file: 'test.yaml', env: {}, readFile: () => '', defaultHostname: 'test-host' },
    )
    const config = loadForwarderConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      FORWARDER_DESTINATIONS_FILE: 'test.yaml',
    })
    const registry = new Registry()
    const groupId = uniqueName('fwd_worker_group')
    const worker = createDestinationWorker({
      destination: destination!,
      topics: { input: [input], groupId, deadLetterTopic, retryTopic },
      kafka,
      producer: flakyProducer,
      codec,
      transport: createHttpTransport(destination as Parameters<typeof createHttpTransport>[0]),
      metrics: createForwarderMetrics(registry),
      log: createLogger({ service: 'forwarder', level: 'silent' }),
      sessionTimeoutMs: 10_000,
      partitionsConsumedConcurrently: 2,
      consumer: config.consumer,
      stopDeadlineMs: 5_000,
    })
    await worker.start()
    onTestFinished(() => worker.stop())

    await waitForCommittedToEnd(kafka, groupId, input, 60_000)
    const ids = events.map((event) => event.event_id)
    const delivered = webhook.requests
      .filter((r) => r.status < 300)
      .flatMap((r) => (JSON.parse(r.body) as { event_id: string }[]).map((e) => e.event_id))
    // Delivered, its dead letters failed, restarted from the last commit, delivered again.
    expect(new Set(delivered)).toEqual(new Set(ids))
    expect(delivered.filter((id) => id === ids[0])).toHaveLength(2)
    const letters = await collectTopics(kafka, [deadLetterTopic])
    onTestFinished(() => letters.stop())
    await waitFor(() => letters.messages.length === 1, { timeoutMs: 30_000, description: 'one dead letter' })
    const [letter] = letters.messages.map((m) =>
      readDeadLetter(m, { topic: m.topic, partition: m.partition, offset: m.offset }),
    )
    expect(letter).toMatchObject({ errorClass: 'EVENT_UNDECODABLE', source: { topic: input, offset: '3' } })
    const restarts = (await registry.getSingleMetric('audit_forwarder_consumer_restarts_total')?.get())
      ?.values
    expect(restarts).toEqual([
      expect.objectContaining({ value: 1, labels: { group: groupId, reason: 'step' } }),
    ])
    await waitFor(() => worker.ready().ok, { timeoutMs: 10_000, description: 'ready again' })
    expect(worker.live().ok).toBe(true)
  })
})
