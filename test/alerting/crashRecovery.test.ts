import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec } from '@audit-pipeline/codec'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { auditEvent } from '../../services/alerting/src/testSupport/auditEvents.js'
import { deleteRules as rules } from '../../services/alerting/src/testSupport/scenarioEvents.js'
import { buildPackage, startServiceProcess } from '../support/serviceProcess.js'
import { newWebhookSecret, startWebhookReceiver } from './support/webhookReceiver.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'alerting-crash-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const alertingBin = 'services/alerting/bin/audit-alerting.js'
const users = 100
const rounds = 3

beforeAll(() => buildPackage('@audit-pipeline/alerting'), 180_000)

/**
 * Exactly once, shown across a crash: events stream into the alerting process, which is killed
 * with SIGKILL while events keep arriving (its evaluator mid-stream, its webhook waiting on an
 * unanswered request) and restarted. Every alert then exists once on the alerts topic and reached
 * the receiver once: per-user thresholds spanning the crash fired once each, from restored state.
 */
describe('alerting under SIGKILL', () => {
  it('loses no alert and sends none twice', { timeout: 300_000 }, async () => {
    const [input, alerts] = [uniqueName('alerting_crash_in'), uniqueName('alerting_crash_alerts')]
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    // One alerts partition: deliveries are strictly one after another, so at the kill the only
    // alert in flight is the held one (README, "Delivery guarantees").
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 3 },
        { topic: alerts, numPartitions: 1 },
      ],
      waitForLeaders: true,
    })

    const secret = newWebhookSecret()
    let held: string | undefined
    const receiver = await startWebhookReceiver(secret, (n, webhookId) => {
      if (n !== 20) return 200
      held = webhookId
      return new Promise<number>(() => undefined)
    })
    const dir = mkdtempSync(join(tmpdir(), 'alerting-crash-'))
    writeFileSync(join(dir, 'rules.yaml'), rules)
    writeFileSync(
      join(dir, 'receivers.yaml'),
      `receivers:\n  - name: ops\n    url: ${receiver.url}\n    secretEnv: OPS_SECRET\n    allowedPrivateAddresses: [127.0.0.1]\n`,
    )
    const deadLetterTopic = uniqueName('alerting_crash_dlq')
    const env = {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
      ALERTING_INPUT_TOPICS: input,
      ALERTING_ALERTS_TOPIC: alerts,
      ALERTING_STATE_TOPIC: uniqueName('alerting_crash_state'),
      ALERTING_DEAD_LETTER_TOPIC: deadLetterTopic,
      ALERTING_CONFLICT_INPUT_TOPICS: deadLetterTopic,
      ALERTING_GROUP_ID: uniqueName('alerting-crash'),
      ALERTING_START_FROM: 'earliest',
      ALERTING_RULES_FILE: join(dir, 'rules.yaml'),
      ALERTING_RECEIVERS_FILE: join(dir, 'receivers.yaml'),
      ALERTING_RETRY_MAX_DELAY_MS: '500',
      ALERTING_SESSION_TIMEOUT_MS: '6000',
      ALERTING_SHUTDOWN_DEADLINE_MS: '3000',
      OPS_SECRET: secret,
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
    }

    // Each user deletes three tickets, the rounds interleaved, so many users' thresholds span the crash.
    const t0 = Date.now() - 60 * 60_000
    const events = Array.from({ length: rounds * users }, (_, i) =>
      auditEvent({
        at: t0 + i * 1_000,
        kind: 'delete',
        actor: { id: `u-${i % users}` },
        object: { id: `T-${i}` },
      }),
    )
    const codec = await createAuditEventCodec({
      registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }),
    })
    const producer = kafka.producer()
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    let sent = 0
    const sendSome = async (count: number) => {
      const chunk = events.slice(sent, sent + count)
      sent += chunk.length
      await producer.send({
        topic: input,
        acks: -1,
        // Keyed by user: a user's deletes stay in order on one partition.
        messages: chunk.map((event) => ({ key: event.actor.id, value: codec.encode(event) })),
      })
    }

    const first = startServiceProcess(alertingBin, env)
    await first.waitForLog('ready')
    await sendSome(60)
    await waitFor(() => held !== undefined, {
      timeoutMs: 60_000,
      description: 'the 20th webhook request, held',
    })
    // Then events keep arriving in small batches, through the crash (paced at about 500 a second:
    // load shaping, not synchronisation), and the process is killed while it reads them.
    let streaming = true
    const stream = (async () => {
      while (streaming && sent < events.length) {
        await sendSome(5)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    await waitFor(() => sent >= 120, { timeoutMs: 10_000 })
    first.child.kill('SIGKILL')
    expect(await first.exited).toBe('SIGKILL')
    const sentAtKill = sent
    streaming = false
    await stream
    await sendSome(events.length - sent)

    const second = startServiceProcess(alertingBin, env)
    const ready = await second.waitForLog('ready')
    const expectedAlerts = events.length + users
    await waitFor(() => receiver.delivered.length >= expectedAlerts, {
      timeoutMs: 120_000,
      description: `${expectedAlerts} alerts delivered`,
    }).catch(async (error: unknown) => {
      const metrics = await (await fetch(String(ready['metrics']))).text()
      const tail = [
        ...metrics.split('\n').filter((line) => /^audit_alerting_(events|alerts|rule)/.test(line)),
        ...first.logs.filter((line) => line.msg !== 'webhook delivery').slice(-5),
        ...second.logs.filter((line) => line.msg !== 'webhook delivery').slice(-10),
      ].map((line) => JSON.stringify(line))
      throw new Error(
        `${String(error)}; ${receiver.delivered.length} delivered; the restarted service logged:\n${tail.join('\n')}`,
      )
    })

    const ids = receiver.delivered.map((hook) => hook.id)
    const distinct = new Set(ids)
    expect(sentAtKill).toBeLessThan(events.length)
    expect(distinct.size).toBe(expectedAlerts)
    expect(ids.length - distinct.size).toBe(0)
    expect(distinct.has(held ?? '')).toBe(true)
    expect(receiver.badSignatures).toBe(0)
    const thresholds = receiver.delivered.filter((hook) => hook.data.rule === 'three-deletes')
    expect(new Set(thresholds.map((hook) => hook.data['group_key'])).size).toBe(users)

    // The alerts topic, read_committed, holds each alert once.
    const collector = await collectTopics(kafka, [alerts])
    onTestFinished(() => collector.stop())
    await waitFor(() => collector.messages.length >= expectedAlerts, { timeoutMs: 30_000 })
    const onTopic = collector.messages.map((message) => message.headers?.['audit-alert-id']?.toString())
    expect(new Set(onTopic).size).toBe(expectedAlerts)
    expect(onTopic.length).toBe(expectedAlerts)
    expect(new Set(onTopic)).toEqual(distinct)

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
