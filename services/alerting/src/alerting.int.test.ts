import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import kafkajs, { Kafka, logLevel, type Producer } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createAuditEventCodec, type AuditEventCodec } from '@audit-pipeline/codec'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { maxJsonNestingDepth } from '@audit-pipeline/event-model'
import { createLogger } from '@audit-pipeline/service-runtime'
import { collectTopics, uniqueName, waitFor } from '@audit-pipeline/testing'
import { newWebhookSecret, startWebhookReceiver } from '../../../test/alerting/support/webhookReceiver.js'
import { alertPayloadOf } from './alerts/alertEvent.js'
import { loadAlertingConfig } from './config.js'
import { createAlertingMetrics } from './metrics.js'
import { createAlertingService } from './service/alertingService.js'
import { auditEvent } from './testSupport/auditEvents.js'
import { deeplyNestedChange } from './testSupport/hostileEvents.js'
import {
  deleteRules,
  everyDeleteRules,
  everyKindExpected,
  everyKindRules,
  everyKindTimeline,
} from './testSupport/scenarioEvents.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'alerting-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
let sharedCodec: Promise<AuditEventCodec> | undefined
const testCodec = () =>
  (sharedCodec ??= createAuditEventCodec({ registry: new SchemaRegistry({ host: stack.schemaRegistryUrl }) }))

async function startAlerting(
  files: { rules: string; receivers?: string },
  env: Record<string, string> = {},
  seams: { wrapProducer?: (producer: Producer) => Producer; onGiveUp?: (error: unknown) => void } = {},
) {
  const input = uniqueName('alerting_in')
  const alerts = uniqueName('alerting_alerts')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: input, numPartitions: 1 }], waitForLeaders: true })
  await admin.disconnect()
  const dir = mkdtempSync(join(tmpdir(), 'alerting-test-'))
  writeFileSync(join(dir, 'rules.yaml'), files.rules)
  if (files.receivers) writeFileSync(join(dir, 'receivers.yaml'), files.receivers)
  const deadLetterTopic = uniqueName('alerting_dlq')
  const groupId = uniqueName('alerting')
  const fullEnv = {
    KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: stack.schemaRegistryUrl,
    ALERTING_INPUT_TOPICS: input,
    ALERTING_ALERTS_TOPIC: alerts,
    ALERTING_STATE_TOPIC: uniqueName('alerting_state'),
    ALERTING_DEAD_LETTER_TOPIC: deadLetterTopic,
    // The test's own: the stack's audit.dlq holds other tests' conflicts, which would raise alerts here.
    ALERTING_CONFLICT_INPUT_TOPICS: deadLetterTopic,
    ALERTING_GROUP_ID: groupId,
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
    ...seams,
  })
  await service.start()
  onTestFinished(() => service.stop())
  const producer = kafka.producer()
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  const collector = await collectTopics(kafka, [alerts])
  onTestFinished(() => collector.stop())
  // Read committed, as every reader of the alerts topic: what is seen here was committed.
  const deadLetterCollector = await collectTopics(kafka, [deadLetterTopic])
  onTestFinished(() => deadLetterCollector.stop())
  const offsetsAdmin = kafka.admin()
  await offsetsAdmin.connect()
  onTestFinished(() => offsetsAdmin.disconnect())
  /** The evaluator's committed offset on the input (last evaluated + 1; -1: none). */
  const committed = async () => {
    const [topic] = await offsetsAdmin.fetchOffsets({ groupId, topics: [input] })
    return topic?.partitions[0]?.offset
  }
  /** The committed offsets of a receiver's consumer group on the alerts topic, summed over partitions. */
  const receiverCommitted = async (receiver: string) => {
    const [topic] = await offsetsAdmin.fetchOffsets({
      groupId: `${groupId}-webhook-${receiver}`,
      topics: [alerts],
    })
    return (topic?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
  }
  /**
   * Whether a receiver's consumer committed past every alert on the topic: in each partition, up
   * to the end or to the last offset below it (the last transaction's commit marker).
   */
  const receiverCaughtUp = async (receiver: string) => {
    const [topic] = await offsetsAdmin.fetchOffsets({
      groupId: `${groupId}-webhook-${receiver}`,
      topics: [alerts],
    })
    const ends = await offsetsAdmin.fetchTopicOffsets(alerts)
    return ends.every(({ partition, high }) => {
      const committed = Number(topic?.partitions.find((p) => p.partition === partition)?.offset ?? '-1')
      return Number(high) === 0 || committed >= Number(high) - 1
    })
  }
  return {
    service,
    dir,
    input,
    groupId,
    receiverCommitted,
    receiverCaughtUp,
    transactionalId: fullEnv.ALERTING_TRANSACTIONAL_ID,
    alertsOnTopic: collector.messages,
    deadLettersOnTopic: deadLetterCollector.messages,
    committed,
    /** Waits until the evaluator's committed offset on the input is `next` (last evaluated + 1). */
    async committedTo(next: number) {
      await waitFor(async () => (await committed()) === String(next), {
        timeoutMs: 20_000,
        description: `the input's committed offset at ${next}`,
      })
    },
    /** The alerts on the topic so far, decoded. */
    async alerts() {
      const codec = await testCodec()
      return Promise.all(
        collector.messages.map(async (message) => alertPayloadOf(await codec.decode(message.value!))),
      )
    },
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

/**
 * A test seam for the evaluator's producer (each generation's): armed, its next transaction fails
 * at sendOffsets, after producing its alerts, as a broker going away between two requests would.
 */
function transactionsFailingOnce() {
  const state = { armed: false, failed: 0, producers: 0 }
  const wrapProducer = (producer: Producer): Producer => {
    state.producers++
    return {
      ...producer,
      transaction: async () => {
        const transaction = await producer.transaction()
        return {
          ...transaction,
          sendOffsets: (offsets) => {
            if (!state.armed) return transaction.sendOffsets(offsets)
            state.armed = false
            state.failed++
            return Promise.reject(
              new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED'),
            )
          },
        }
      },
    }
  }
  return { state, wrapProducer }
}

/**
 * Half the events sent and committed (`beforeArming` then checks what it needs), the seam armed,
 * the rest sent: resolves once the armed transaction failed, everything is committed again and
 * `expectedAlerts` alerts are on the topic.
 */
async function sendAcrossAFailure(
  harness: Awaited<ReturnType<typeof startAlerting>>,
  seam: ReturnType<typeof transactionsFailingOnce>,
  events: Parameters<AuditEventCodec['encode']>[0][],
  expectedAlerts: number,
  beforeArming: () => void = () => undefined,
): Promise<void> {
  const half = events.length / 2
  await harness.send(events.slice(0, half))
  await harness.committedTo(half)
  beforeArming()
  seam.state.armed = true
  await harness.send(events.slice(half))
  await waitFor(() => seam.state.failed === 1, {
    timeoutMs: 20_000,
    description: 'the armed transaction to fail',
  })
  await harness.committedTo(events.length)
  await waitFor(() => harness.alertsOnTopic.length >= expectedAlerts, {
    timeoutMs: 20_000,
    description: `${expectedAlerts} alerts on the topic`,
  })
}

/** Each of `users` users deletes three tickets, an hour ago, the rounds interleaved. */
function threeDeletesEach(users: number) {
  const t0 = Date.now() - 60 * 60_000
  return Array.from({ length: 3 * users }, (_, i) =>
    auditEvent({
      at: t0 + i * 1_000,
      kind: 'delete',
      actor: { id: `u-${i % users}` },
      object: { id: `T-${i}` },
    }),
  )
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

    // The threshold resolved as its window passed: a resolved notice names the alert it resolves,
    // and reached the receiver after it (one group's alerts keep their order).
    const resolved = onTopic.find((alert) => alert?.status === 'resolved' && alert.rule === 'mass-delete')
    expect(resolved?.resolves_alert_id).toBe(massDelete?.id)
    await waitFor(() => everything.delivered.some((hook) => hook.id === resolved?.alert_id), {
      timeoutMs: 10_000,
      description: 'the resolved notice delivered',
    })
    const hookIds = everything.delivered.map((hook) => hook.id)
    expect(hookIds.indexOf(resolved?.alert_id ?? '')).toBeGreaterThan(hookIds.indexOf(massDelete?.id ?? ''))

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

describe('hostile input', () => {
  it('a change value nested 6,000 levels deep is dead-lettered as EVENT_TOO_DEEP, and the alerts of the events after it are still committed', async () => {
    const harness = await startAlerting({
      rules: `
rules:
  - id: every-delete
    kind: match
    severity: warning
    filter: event.action.kind == "delete"
  # Reads entity state: each event's changes are parsed and kept, and written to the changelog.
  - id: priority-of-deleted
    kind: match
    severity: info
    filter: event.action.kind == "delete" && "priority" in entity.fields
`,
    })
    const t0 = Date.now() - 60 * 60_000
    const before = auditEvent({ at: t0, kind: 'delete', object: { id: 'T-1' } })
    // The same ticket: its entity state would hold the deep value, and the changelog would have to write it.
    const deep = deeplyNestedChange({ at: t0 + 1_000, levels: 6_000, objectId: 'T-2' })
    const after = auditEvent({ at: t0 + 2_000, kind: 'delete', object: { id: 'T-2' } })
    await harness.send([before, deep, after])

    const deadLetter = await waitFor(
      () => {
        const [message] = harness.deadLettersOnTopic
        return (
          message &&
          readDeadLetter(message, {
            topic: message.topic,
            partition: message.partition,
            offset: message.offset,
          })
        )
      },
      { timeoutMs: 30_000, description: 'the deep event’s dead letter' },
    )
    expect(deadLetter).toMatchObject({
      errorClass: 'EVENT_TOO_DEEP',
      message: `changes[0].new_value nests objects and arrays more than ${maxJsonNestingDepth} levels deep (at offset ${maxJsonNestingDepth})`,
      service: 'alerting',
      source: { topic: harness.input, partition: 0, offset: '1' },
    })
    const codec = await testCodec()
    expect((await codec.decode(deadLetter.value!)).event_id).toBe(deep.event_id)

    // The events on either side were evaluated and their alerts committed with the offsets.
    await waitFor(async () => (await harness.alerts()).length >= 2, {
      timeoutMs: 20_000,
      description: 'the alerts of the deletes around it',
    })
    const alertsOf = async () =>
      (await harness.alerts()).map((alert) => [alert?.rule, alert?.triggering_event_ids[0]])
    expect(await alertsOf()).toEqual([
      ['every-delete', before.event_id],
      ['every-delete', after.event_id],
    ])
    await harness.committedTo(3)

    // And the service goes on: a later event is alerted on and committed too.
    const later = auditEvent({ at: t0 + 3_000, kind: 'delete', object: { id: 'T-3' } })
    await harness.send([later])
    await waitFor(async () => (await harness.alerts()).length >= 3, {
      timeoutMs: 20_000,
      description: 'the later delete’s alert',
    })
    expect((await alertsOf())[2]).toEqual(['every-delete', later.event_id])
    await harness.committedTo(4)
    expect(harness.deadLettersOnTopic).toHaveLength(1)
    expect(harness.service.live()).toEqual({ ok: true })
    expect(
      await harness.metric('audit_alerting_events_dead_lettered_total', { reason: 'EVENT_TOO_DEEP' }),
    ).toBe(1)
    // Counted once the transaction is committed, which the broker may show a moment before.
    await waitFor(async () => (await harness.metric('audit_alerting_events_evaluated_total')) === 3, {
      timeoutMs: 5_000,
      description: 'three events evaluated',
    })
  })

  it('matches() with a backtracking pattern over 40,000 characters takes bounded time and gives the right answer', async () => {
    const harness = await startAlerting({
      rules: `
rules:
  - id: all-a
    kind: match
    severity: warning
    filter: event.attributes.text.matches('^(a+)+$')
`,
    })
    const t0 = Date.now() - 60 * 60_000
    // A backtracking engine tries 2^40000 ways of splitting the a's before failing on the '!'.
    const hostile = auditEvent({ at: t0, attributes: { text: `${'a'.repeat(40_000)}!` } })
    const matching = auditEvent({ at: t0 + 1_000, attributes: { text: 'a'.repeat(40_000) } })
    const started = performance.now()
    await harness.send([hostile, matching])
    await waitFor(async () => (await harness.alerts()).length >= 1, {
      timeoutMs: 30_000,
      description: 'the matching event’s alert',
    })
    const elapsedMs = performance.now() - started
    // Generous: evaluating both takes milliseconds on RE2; the bound is Kafka's round trips and a
    // loaded machine. JavaScript's RegExp would still be on the first event.
    expect(elapsedMs).toBeLessThan(20_000)
    await harness.committedTo(2)
    const alerts = await harness.alerts()
    expect(alerts.map((alert) => alert?.triggering_event_ids)).toEqual([[matching.event_id]])
    await waitFor(async () => (await harness.metric('audit_alerting_events_evaluated_total')) === 2, {
      timeoutMs: 5_000,
      description: 'both events evaluated',
    })
    expect(await harness.metric('audit_alerting_expression_errors_total')).toBe(0)
    expect(harness.deadLettersOnTopic).toHaveLength(0)
  })

  it('a rule that keeps overrunning its time budget is disabled with a pipeline alert through the alert path', async () => {
    const harness = await startAlerting(
      {
        rules: `
rules:
  - id: pattern-from-data
    kind: match
    severity: warning
    filter: event.attributes.text.matches(event.attributes.pattern)
`,
      },
      {
        ALERTING_RULE_BUDGET_MS: '20',
        ALERTING_RULE_BUDGET_OVERRUN_LIMIT: '2',
        ALERTING_RULE_BUDGET_WINDOW_MS: '600000',
      },
    )
    const t0 = Date.now() - 60 * 60_000
    // Linear, but heavy: each event brings a new pattern of 1,000 repetitions for RE2 to compile
    // and run (hundreds of ms, far over 20).
    const slow = (i: number) =>
      auditEvent({
        at: t0 + i * 1_000,
        attributes: { text: 'a'.repeat(600), pattern: `(?:a?){500}a{500}$|x${i}` },
      })
    const events = [slow(0), slow(1), slow(2)]
    await harness.send(events)
    await harness.committedTo(3)
    const alerts = await waitFor(
      async () => {
        const decoded = await harness.alerts()
        return decoded.length >= 3 && decoded
      },
      { timeoutMs: 20_000, description: 'the alerts' },
    )
    // The first two events matched and raised; the second overrun disabled the rule, so the
    // third was not evaluated by it. (Alerts of different keys may be on different partitions.)
    const byRule = [...alerts].sort((a, b) => (a?.rule ?? '').localeCompare(b?.rule ?? ''))
    expect(byRule.map((alert) => [alert?.rule, alert?.triggering_event_ids])).toEqual([
      ['pattern-from-data', [events[0]?.event_id]],
      ['pattern-from-data', [events[1]?.event_id]],
      ['pipeline.rule-disabled', [events[0]?.event_id, events[1]?.event_id]],
    ])
    expect(byRule[2]).toMatchObject({
      status: 'raised',
      rule_kind: 'pipeline',
      severity: 'error',
      tenant: 'audit-pipeline',
      group_key: 'pattern-from-data',
      description: 'Rule pattern-from-data disabled: 2 evaluations over its 20 ms budget within 600000 ms',
      figures: { rule: 'pattern-from-data', overruns: 2, budget_ms: 20, window_ms: 600_000 },
    })
    await waitFor(async () => (await harness.metric('audit_alerting_events_evaluated_total')) === 3, {
      timeoutMs: 5_000,
      description: 'three events evaluated',
    })
    expect(
      await harness.metric('audit_alerting_rule_budget_exceeded_total', { rule: 'pattern-from-data' }),
    ).toBe(2)
    expect(await harness.metric('audit_alerting_rules_disabled', { rule: 'pattern-from-data' })).toBe(1)
    expect(harness.alertsOnTopic).toHaveLength(3)
    expect(harness.service.live()).toEqual({ ok: true })
  })
})

describe('failures', () => {
  it('a transaction that fails mid-run is a step failure: the evaluator restarts from the last commit, the service stays up, every alert exists once', async () => {
    const seam = transactionsFailingOnce()
    let gaveUp: unknown
    const harness = await startAlerting(
      { rules: deleteRules },
      {},
      {
        wrapProducer: seam.wrapProducer,
        onGiveUp: (error) => (gaveUp = error),
      },
    )
    const users = 30
    // Half of the thresholds' counts are committed before the failure, the rest evaluated after
    // the restart from restored state.
    const events = threeDeletesEach(users)
    // Read committed: the failed transaction's alerts were aborted, and produced again once.
    const expectedAlerts = events.length + users
    await sendAcrossAFailure(harness, seam, events, expectedAlerts, () =>
      expect(seam.state.producers).toBe(1),
    )
    const alerts = await harness.alerts()
    const ids = alerts.map((alert) => alert?.alert_id)
    expect(ids).toHaveLength(expectedAlerts)
    expect(new Set(ids).size).toBe(expectedAlerts)
    expect(
      new Set(alerts.filter((a) => a?.rule === 'every-delete').map((a) => a?.triggering_event_ids[0])),
    ).toEqual(new Set(events.map((event) => event.event_id)))
    const thresholds = alerts.filter((alert) => alert?.rule === 'three-deletes')
    expect(thresholds.map((alert) => alert?.group_key).sort()).toEqual(
      Array.from({ length: users }, (_, i) => `u-${i}`).sort(),
    )
    expect(thresholds.every((alert) => alert?.figures['count'] === 3)).toBe(true)

    // A new generation: a new producer (fencing the old one), the state restored; nothing exited.
    expect(seam.state.producers).toBe(2)
    expect(await harness.metric('audit_alerting_consumer_restarts_total', { reason: 'step' })).toBe(1)
    expect(gaveUp).toBeUndefined()
    expect(harness.service.live()).toEqual({ ok: true })
    await waitFor(() => harness.service.ready().ok, { timeoutMs: 20_000, description: 'ready again' })
  })

  it('a fenced evaluator (another instance took its transactional id) commits nothing more and asks to exit', async () => {
    let producers = 0
    let gaveUp: unknown
    const harness = await startAlerting(
      { rules: deleteRules },
      {},
      {
        wrapProducer: (producer) => (producers++, producer),
        onGiveUp: (error) => (gaveUp = error),
      },
    )
    const t0 = Date.now() - 60 * 60_000
    await harness.send([auditEvent({ at: t0, kind: 'delete', object: { id: 'T-1' } })])
    await harness.committedTo(1)

    // The new owner: initialising the transactional id fences the evaluator's producer.
    const owner = kafka.producer({
      transactionalId: harness.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await owner.connect()
    onTestFinished(() => owner.disconnect())
    await (await owner.transaction()).abort()

    await harness.send([auditEvent({ at: t0 + 1_000, kind: 'delete', object: { id: 'T-2' } })])
    await waitFor(() => gaveUp !== undefined, { timeoutMs: 20_000, description: 'the evaluator to give up' })
    expect(harness.service.live()).toMatchObject({ ok: false, details: { evaluator: { fenced: true } } })
    // No new producer was made (it would have fenced the new owner in turn), and the second
    // event's transaction did not commit: its offset and alert are the new owner's to write.
    expect(producers).toBe(1)
    expect(await harness.metric('audit_alerting_consumer_restarts_total')).toBe(0)
    expect(await harness.committed()).toBe('1')
    expect(harness.alertsOnTopic).toHaveLength(1)
  })
})

describe('alerts sent at once', () => {
  const receiverFile = (url: string) =>
    `receivers:\n  - name: ops\n    url: ${url}\n    secretEnv: SECRET\n    allowedPrivateAddresses: [127.0.0.1]\n`

  it('an alert reaches its receiver as it is raised, before its transaction commits, and the topic path does not send it again', async () => {
    const secret = newWebhookSecret()
    const receiver = await startWebhookReceiver(secret)
    // The test seam: once armed, a transaction's commit waits until released.
    let holdCommits = false
    let releaseCommits!: () => void
    const released = new Promise<void>((resolve) => (releaseCommits = resolve))
    const harness = await startAlerting(
      { rules: everyDeleteRules, receivers: receiverFile(receiver.url) },
      { SECRET: secret },
      {
        wrapProducer: (producer) => ({
          ...producer,
          transaction: async () => {
            const transaction = await producer.transaction()
            return {
              ...transaction,
              commit: async () => {
                if (holdCommits) await released
                return transaction.commit()
              },
            }
          },
        }),
      },
    )
    holdCommits = true
    await harness.send([auditEvent({ at: Date.now(), kind: 'delete', object: { id: 'T-1' } })])
    await waitFor(() => receiver.delivered.length === 1, {
      timeoutMs: 20_000,
      description: 'the alert delivered while its transaction waits to commit',
    })
    // Nothing committed yet: neither the alert (read_committed) nor the event's offset.
    expect(harness.alertsOnTopic).toHaveLength(0)
    expect(await harness.committed()).not.toBe('1')

    holdCommits = false
    releaseCommits()
    await harness.committedTo(1)
    await waitFor(() => harness.alertsOnTopic.length === 1, { timeoutMs: 20_000 })
    // The receiver's consumer read it back and committed past it, without sending it again.
    await waitFor(async () => (await harness.receiverCommitted('ops')) > 0, {
      timeoutMs: 20_000,
      description: 'the receiver’s consumer past the alert',
    })
    const [onTopic] = await harness.alerts()
    expect(receiver.delivered.map((hook) => hook.id)).toEqual([onTopic?.alert_id])
    expect(receiver.delivered[0]?.data).toEqual(onTopic)
    expect(receiver.badSignatures).toBe(0)
    expect(await harness.metric('audit_alerting_webhook_alerts_sent_total', { path: 'at_once' })).toBe(1)
    expect(await harness.metric('audit_alerting_webhook_alerts_sent_total', { path: 'after_commit' })).toBe(0)
  })

  it('a transaction that fails after its alerts went out: evaluated again, each is on the topic once and reached the receiver once', async () => {
    const secret = newWebhookSecret()
    const receiver = await startWebhookReceiver(secret)
    const seam = transactionsFailingOnce()
    const harness = await startAlerting(
      {
        rules: deleteRules,
        receivers: receiverFile(receiver.url),
      },
      { SECRET: secret },
      {
        wrapProducer: seam.wrapProducer,
      },
    )
    const users = 20
    const events = threeDeletesEach(users)
    const expectedAlerts = events.length + users
    await sendAcrossAFailure(harness, seam, events, expectedAlerts)
    await waitFor(() => harness.receiverCaughtUp('ops'), {
      timeoutMs: 20_000,
      description: 'the receiver’s consumer past every alert',
    })
    const onTopic = (await harness.alerts()).map((alert) => alert?.alert_id)
    expect(new Set(onTopic).size).toBe(expectedAlerts)
    expect(onTopic).toHaveLength(expectedAlerts)
    // The failed transaction's alerts had gone out at once; evaluated again they have the same
    // ids, and the service remembers what it sent: no repeat.
    const delivered = receiver.delivered.map((hook) => hook.id)
    expect(new Set(delivered)).toEqual(new Set(onTopic))
    expect(delivered).toHaveLength(expectedAlerts)
    expect(await harness.metric('audit_alerting_webhook_alerts_sent_total', { path: 'at_once' })).toBe(
      expectedAlerts,
    )
    expect(await harness.metric('audit_alerting_consumer_restarts_total', { reason: 'step' })).toBe(1)
  })
})
