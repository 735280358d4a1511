import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { newWebhookSecret, startWebhookReceiver } from '../../../test/alerting/support/webhookReceiver.js'
import { alertPayloadOf } from './alerts/alertEvent.js'
import { loadAlertingConfig } from './config.js'
import { createAlertingMetrics } from './metrics.js'
import { createAlertingService } from './service/alertingService.js'
import { everyKindExpected, everyKindRules, everyKindTimeline } from './testSupport/scenarioEvents.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'alerting-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () =>
  (sharedCodec ??= createAuditEventCodec({ registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }) }))

async function startAlerting(files: { rules: string; receivers?: string }, env: Record<string, string> = {}) {
  const input = uniqueName('alerting_in')
  const alerts = uniqueName('alerting_alerts')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const dir = mkdtempSync(join(tmpdir(), 'alerting-test-'))
  writeFileSync(join(dir, 'rules.yaml'), files.rules)
  if (files.receivers) writeFileSync(join(dir, 'receivers.yaml'), files.receivers)
  const fullEnv = {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    ALERTING_INPUT_TOPICS: input,
    ALERTING_ALERTS_TOPIC: alerts,
    ALERTING_STATE_TOPIC: uniqueName('alerting_state'),
    ALERTING_DEAD_LETTER_TOPIC: uniqueName('alerting_dlq'),
    ALERTING_GROUP_ID: uniqueName('alerting'),
    ALERTING_TRANSACTIONAL_ID: uniqueName('alerting_tx'),
    ALERTING_START_FROM: 'earliest',
    ALERTING_RULES_FILE: join(dir, 'rules.yaml'),
    ALERTING_RETRY_MAX_DELAY_MS: '300',
    ALERTING_SESSION_TIMEOUT_MS: '10000',
    ALERTING_SHUTDOWN_DEADLINE_MS: '5000',
    ...(files.receivers && { ALERTING_RECEIVERS_FILE: join(dir, 'receivers.yaml') }),
    ...env,
  }
  const registry = new Registry()
  const service = createAlertingService({
    config: loadAlertingConfig(fullEnv),
    kafka,
    codec: await testCodec(),
    metrics: createAlertingMetrics(registry),
    log: createLogger({
      service: 'alerting',
      level: 'silent',
    }),
    env: fullEnv,
    source: { instance: 'test', version: null },
  })
  await service.start()
  onTestFinished(() => service.stop())
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  const collector = await collectTopics(kafka, [alerts])
  onTestFinished(() => collector.stop())
  return {
    service,
    dir,
    alertsOnTopic: collector.messages,
    async send(events: Parameters<AuditEventCodec['encode']>[0][]) {
      const codec = await testCodec()
      await producer.send({
        topic: input,
        acks: -1,
        messages: events.map((event) => ({ value: codec.encode(event) })),
      })
    },
    async metric(name: string, labels: Record<string, string> = {}) {
      const metric = await registry.getSingleMetric(name)?.get()
      return (metric?.values ?? [])
        .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0)
    },
  }
}

describe('alerting service', () => {
  it('raises one alert per rule kind, on the alerts topic and as signed webhooks routed by severity, past a receiver that is down', async () => {
    const [allSecret, criticalSecret, deadSecret] = [
      newWebhookSecret(),
      newWebhookSecret(),
      newWebhookSecret(),
    ]
    const everything = await startWebhookReceiver(allSecret)
    // Answers 503 twice, then recovers.
    const critical = await startWebhookReceiver(criticalSecret, (n) => (n <= 2 ? 503 : 200))
    const dead = await startWebhookReceiver(deadSecret)
    await dead.close()
    const harness = await startAlerting(
      {
        rules: everyKindRules,
        receivers: `
receivers:
  - name: everything
    url: ${everything.url}
    secretEnv: SECRET_ALL
    allowedPrivateAddresses: [127.0.0.1]
  - name: pager
    url: ${critical.url}
    secretEnv: SECRET_CRITICAL
    allowedPrivateAddresses: [127.0.0.1]
    minSeverity: critical
    statuses: [raised]
  - name: dead
    url: ${dead.url}
    secretEnv: SECRET_DEAD
    allowedPrivateAddresses: [127.0.0.1]
`,
      },
      { SECRET_ALL: allSecret, SECRET_CRITICAL: criticalSecret, SECRET_DEAD: deadSecret },
    )
    const codec = await testCodec()
    await harness.send(everyKindTimeline(Date.now() - 60 * 60_000))

    const expectedRules = Object.keys(everyKindExpected).sort()
    await waitFor(
      () =>
        everything.delivered.filter((hook) => hook.data.status === 'raised').length >= expectedRules.length,
      {
        timeoutMs: 30_000,
        description: 'every rule’s alert delivered',
      },
    )
    const raisedHooks = everything.delivered.filter((hook) => hook.data.status === 'raised')
    expect(raisedHooks.map((hook) => hook.data.rule).sort()).toEqual(expectedRules)
    expect(everything.badSignatures).toBe(0)
    for (const hook of raisedHooks) {
      expect(hook.id).toBe(hook.data.alert_id)
      expect(hook.data.severity).toBe(everyKindExpected[hook.data.rule as keyof typeof everyKindExpected])
    }
    const massDelete = raisedHooks.find((hook) => hook.data.rule === 'mass-delete')
    expect(massDelete?.data).toMatchObject({ group_key: 'u-mass', figures: { count: 50 } })
    expect((massDelete?.data['triggering_event_ids'] as string[]).length).toBe(50)
    expect(massDelete?.data['clickhouse_query']).toMatch(
      /^SELECT \* FROM audit_events_deduplicated WHERE event_id IN \('/,
    )

    // On the topic: the same alerts, as canonical events the sink can store.
    await waitFor(() => harness.alertsOnTopic.length >= expectedRules.length, { timeoutMs: 10_000 })
    const onTopic = await Promise.all(
      harness.alertsOnTopic.map(async (message) => alertPayloadOf(await codec.decode(message.value!))),
    )
    const raisedOnTopic = onTopic.filter((alert) => alert?.status === 'raised')
    expect(raisedOnTopic.map((alert) => alert?.rule).sort()).toEqual(expectedRules)
    expect(new Set(raisedOnTopic.map((alert) => alert?.alert_id))).toEqual(
      new Set(raisedHooks.map((hook) => hook.id)),
    )

    // The threshold resolved as its window passed: a resolved notice names the alert it resolves.
    const resolved = onTopic.find((alert) => alert?.status === 'resolved' && alert.rule === 'mass-delete')
    expect(resolved?.resolves_alert_id).toBe(massDelete?.id)

    // The pager gets only critical raised alerts, after two 503s; the dead receiver held back nobody.
    await waitFor(() => critical.delivered.length >= 2, {
      timeoutMs: 20_000,
      description: 'critical alerts after 503s',
    })
    expect(critical.delivered.map((hook) => hook.data.rule).sort()).toEqual([
      'mass-delete',
      'service-stopped-auditing',
    ])
    expect(critical.refused).toBe(2)
    expect(
      await harness.metric('audit_alerting_webhook_deliveries_total', {
        receiver: 'pager',
        status: 'retried',
      }),
    ).toBe(2)
    expect(
      await harness.metric('audit_alerting_webhook_deliveries_total', {
        receiver: 'dead',
        status: 'delivered',
      }),
    ).toBe(0)
    expect(
      await harness.metric('audit_alerting_webhook_deliveries_total', {
        receiver: 'dead',
        status: 'retried',
      }),
    ).toBeGreaterThan(0)
    expect(
      await harness.metric('audit_alerting_alerts_total', { rule: 'mass-delete', status: 'raised' }),
    ).toBe(1)
    expect(await harness.metric('audit_alerting_events_evaluated_total')).toBe(everyKindTimeline(0).length)
  })

  it('a receiver answering 4xx is not retried: the delivery counts as rejected and the next alert goes on', async () => {
    const secret = newWebhookSecret()
    const receiver = await startWebhookReceiver(secret, (n) => (n === 1 ? 400 : 200))
    const harness = await startAlerting(
      {
        rules: `
rules:
  - id: every-delete
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
`,
        receivers: `receivers:\n  - name: strict\n    url: ${receiver.url}\n    secretEnv: SECRET\n    allowedPrivateAddresses: [127.0.0.1]\n`,
      },
      { SECRET: secret },
    )
    const { auditEvent } = await import('./testSupport/auditEvents.js')
    await harness.send([
      auditEvent({ at: Date.now(), kind: 'delete' }),
      auditEvent({ at: Date.now() + 1, kind: 'delete' }),
    ])
    await waitFor(() => receiver.delivered.length === 1, { timeoutMs: 20_000 })
    expect(receiver.refused).toBe(1)
    expect(
      await harness.metric('audit_alerting_webhook_deliveries_total', {
        receiver: 'strict',
        status: 'rejected',
      }),
    ).toBe(1)
    expect(
      await harness.metric('audit_alerting_webhook_deliveries_total', {
        receiver: 'strict',
        status: 'retried',
      }),
    ).toBe(0)
  })

  it('keeps its rules when a reloaded file is invalid, and applies a valid one', async () => {
    const harness = await startAlerting({ rules: 'rules:\n  - id: a\n    kind: match\n    severity: info\n' })
    writeFileSync(join(harness.dir, 'rules.yaml'), 'rules:\n  - id: a\n    kind: match\n    severity: loud\n')
    expect(() => harness.service.reloadRules()).toThrow(/rules\.yaml:4:15: rules\[0\]\.severity \(rule a\)/)
    expect(await harness.metric('audit_alerting_rules_reloads_total', { result: 'refused' })).toBe(1)
    writeFileSync(join(harness.dir, 'rules.yaml'), 'rules:\n  - id: b\n    kind: match\n    severity: info\n')
    harness.service.reloadRules()
    expect(await harness.metric('audit_alerting_rules_reloads_total', { result: 'applied' })).toBe(1)
  })
})
