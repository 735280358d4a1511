import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type Message } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { newWebhookSecret, startWebhookReceiver } from '../../../../test/alerting/support/webhookReceiver.js'
import { alertPayloadOf } from '../alerts/alertEvent.js'
import { loadAlertingConfig } from '../config.js'
import { createAlertingMetrics } from '../metrics.js'
import { deadLetterMessage, sampleConflict } from '../testSupport/deadLetters.js'
import { createAlertingService } from './alertingService.js'
import { createConflictAlerts } from './conflictAlerts.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'conflict-alerts-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () =>
  (sharedCodec ??= createAuditEventCodec({ registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }) }))
const log = createLogger({ service: 'alerting', level: 'silent' })

/** A fresh dead-letter topic and alerts topic, an admin, and a producer writing to the former. */
async function freshTopics() {
  const deadLetters = uniqueName('conflicts_dlq')
  const alerts = uniqueName('conflicts_alerts')
  const admin = kafka.admin()
  await admin.connect()
  onTestFinished(() => admin.disconnect())
  await admin.createTopics({
    topics: [
      { topic: deadLetters, numPartitions: 1 },
      { topic: alerts, numPartitions: 3 },
    ],
    waitForLeaders: true,
  })
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  const send = (messages: Message[]) => producer.send({ topic: deadLetters, acks: -1, messages })
  return { deadLetters, alerts, admin, send }
}

const baseEnv = () => ({
  KAFKA_BROKERS: stack.kafkaBrokers.join(','),
  SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
  ALERTING_GROUP_ID: uniqueName('alerting'),
  ALERTING_START_FROM: 'earliest',
  ALERTING_SESSION_TIMEOUT_MS: '10000',
  ALERTING_SHUTDOWN_DEADLINE_MS: '5000',
})

describe('conflict alerts against the broker', () => {
  it('write exactly one security alert for an EVENT_ID_CONFLICT dead letter, skip the others, and commit past them', async () => {
    const topics = await freshTopics()
    const config = loadAlertingConfig({
      ...baseEnv(),
      ALERTING_RULES_FILE: 'not read here',
      ALERTING_ALERTS_TOPIC: topics.alerts,
      ALERTING_CONFLICT_INPUT_TOPICS: topics.deadLetters,
    })
    await topics.send([
      deadLetterMessage({ conflict: sampleConflict, service: 'clickhouse-sink' }),
      deadLetterMessage({ errorClass: 'EVENT_INVALID' }),
      { key: null, value: Buffer.from('not a dead letter'), headers: {} },
    ])
    const registry = new Registry()
    const codec = await testCodec()
    const conflicts = createConflictAlerts({
      config,
      kafka,
      codec,
      metrics: createAlertingMetrics(registry),
      log,
    })
    await conflicts.start()
    onTestFinished(() => conflicts.stop())
    const collector = await collectTopics(kafka, [topics.alerts])
    onTestFinished(() => collector.stop())

    // Committed past all three: the next offset to read is 3.
    await waitFor(
      async () => {
        const [committed] = await topics.admin.fetchOffsets({
          groupId: config.conflictGroupId,
          topics: [topics.deadLetters],
        })
        return committed?.partitions[0]?.offset === '3'
      },
      { timeoutMs: 30_000, description: 'the conflict group’s offset committed at 3' },
    )
    // Alerts are acknowledged before the commit: the topic holds all there will be.
    const ends = await topics.admin.fetchTopicOffsets(topics.alerts)
    expect(ends.reduce((sum, partition) => sum + Number(partition.high), 0)).toBe(1)
    const [message] = await waitFor(() => collector.messages.length >= 1 && collector.messages, {
      timeoutMs: 10_000,
      description: 'the alert read back',
    })
    const alert = alertPayloadOf(await codec.decode(message?.value ?? Buffer.alloc(0)))
    expect(alert).toMatchObject({
      status: 'raised',
      rule: 'pipeline.event-id-conflict',
      rule_kind: 'pipeline',
      severity: 'critical',
      tenant: sampleConflict.tenant,
      group_key: sampleConflict.eventId,
      figures: {
        event_id: sampleConflict.eventId,
        stored_digest: sampleConflict.storedDigest,
        refused_digest: sampleConflict.refusedDigest,
        refused_by: 'clickhouse-sink',
        source_topic: 'audit.events',
        source_partition: 3,
        source_offset: '1234',
      },
      triggering_event_ids: [sampleConflict.eventId],
      triggering_events: [{ event_id: sampleConflict.eventId, content_digest: sampleConflict.refusedDigest }],
    })
    expect(message?.headers?.['audit-alert-id']?.toString()).toBe(alert?.alert_id)

    const metric = async (name: string) =>
      ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce(
        (sum, value) => sum + value.value,
        0,
      )
    expect(await metric('audit_alerting_conflict_alerts_total')).toBe(1)
    expect(await metric('audit_alerting_dead_letters_unreadable_total')).toBe(1)
  })

  it('run with the service: the alert reaches the webhook receivers, and the service is ready', async () => {
    const topics = await freshTopics()
    const input = uniqueName('conflicts_in')
    await topics.admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }], waitForLeaders: true })
    const secret = newWebhookSecret()
    const receiver = await startWebhookReceiver(secret)
    const dir = mkdtempSync(join(tmpdir(), 'conflict-alerts-test-'))
    writeFileSync(join(dir, 'rules.yaml'), 'rules: []\n')
    writeFileSync(
      join(dir, 'receivers.yaml'),
      `receivers:\n  - name: security\n    url: ${receiver.url}\n    secretEnv: SECRET\n    allowedPrivateAddresses: [127.0.0.1]\n    minSeverity: critical\n`,
    )
    const env = {
      ...baseEnv(),
      SECRET: secret,
      ALERTING_INPUT_TOPICS: input,
      ALERTING_ALERTS_TOPIC: topics.alerts,
      ALERTING_STATE_TOPIC: uniqueName('conflicts_state'),
      ALERTING_DEAD_LETTER_TOPIC: uniqueName('conflicts_own_dlq'),
      ALERTING_CONFLICT_INPUT_TOPICS: topics.deadLetters,
      ALERTING_TRANSACTIONAL_ID: uniqueName('conflicts_tx'),
      ALERTING_RULES_FILE: join(dir, 'rules.yaml'),
      ALERTING_RECEIVERS_FILE: join(dir, 'receivers.yaml'),
    }
    const service = createAlertingService({
      config: loadAlertingConfig(env),
      kafka,
      codec: await testCodec(),
      metrics: createAlertingMetrics(new Registry()),
      log,
      env,
      source: { instance: 'test', version: null },
    })
    await service.start()
    onTestFinished(() => service.stop())
    await topics.send([deadLetterMessage({ conflict: sampleConflict })])

    const [hook] = await waitFor(() => receiver.delivered.length >= 1 && receiver.delivered, {
      timeoutMs: 30_000,
      description: 'the conflict alert delivered to the receiver',
    })
    expect(hook?.data).toMatchObject({
      rule: 'pipeline.event-id-conflict',
      severity: 'critical',
      tenant: sampleConflict.tenant,
      triggering_events: [{ event_id: sampleConflict.eventId, content_digest: sampleConflict.refusedDigest }],
    })
    expect(receiver.badSignatures).toBe(0)
    await waitFor(() => service.ready().ok, { timeoutMs: 20_000, description: 'every part ready' })
  })
})
