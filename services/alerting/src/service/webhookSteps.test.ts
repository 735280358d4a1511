import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { CodecError } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { committableOf, fakeRuntimeContext, StepInterrupted, type KafkaRecord } from '@audit-pipeline/kafka'
import { createLogger } from '@audit-pipeline/service-runtime'
import { contentDigest } from '@audit-pipeline/integrity'
import { alertEvent, type AlertPayload } from '../alerts/alertEvent.js'
import type { AlertNotice } from '../alerts/alertNotice.js'
import type { AttemptResult } from '../delivery/deliveryOutcome.js'
import { createReceiverDeliveries } from '../delivery/receiverDeliveries.js'
import { parseReceivers } from '../delivery/receivers.js'
import { createAlertEngine } from '../engine/alertEngine.js'
import { createAlertingMetrics } from '../metrics.js'
import { parseRules } from '../rules/parseRules.js'
import { auditEvent } from '../testSupport/auditEvents.js'
import { webhookSteps } from './webhookSteps.js'

const secret = `whsec_${Buffer.from('a test secret of 24 bytes').toString('base64')}`
const [receiver] = parseReceivers(
  'receivers:\n  - name: ops\n    url: https://ops.example.com/hooks\n    secretEnv: OPS_SECRET\n',
  'receivers.yaml',
  { env: { OPS_SECRET: secret }, readFile: () => '' },
)
const log = createLogger({ service: 'alerting-test', level: 'silent' })

const notice: AlertNotice = {
  status: 'raised',
  alertId: '2caca6d4-a30b-8ee0-80b6-a5492976ece7',
  ruleId: 'mass-delete',
  ruleKind: 'threshold',
  severity: 'critical',
  description: 'mass-delete',
  tenant: 'acme',
  groupKey: 'u-mass',
  atMs: Date.parse('2026-03-02T09:00:00Z'),
  windowStartMs: Date.parse('2026-03-02T08:55:00Z'),
  windowEndMs: Date.parse('2026-03-02T09:00:00Z'),
  figures: { count: 50 },
  triggeringEvents: [],
}
const alert = alertEvent(notice, { instance: 'test', version: null }, notice.atMs, {
  groupId: notice.alertId,
  groupSize: 1,
})

/** A record of the alerts topic; its value is what the fake codec decodes (`alert` or not). */
const record = (offset: number, value = 'alert'): KafkaRecord => ({
  topic: 'audit.alerts',
  partition: 0,
  offset: String(offset),
  key: null,
  value: Buffer.from(value),
  headers: {},
  timestamp: String(notice.atMs),
})

/**
 * The steps of one receiver with a fake runtime context (its signal is the runtime's: a restart,
 * or stop's deadline), a codec that knows one alert, and `post` standing in for the HTTP request.
 */
function stepsWith(post: (signal: AbortSignal, attempt: number) => Promise<AttemptResult>) {
  if (!receiver) throw new Error('the receivers file has one receiver')
  const { context, calls, abort } = fakeRuntimeContext(log)
  const registry = new Registry()
  const metrics = createAlertingMetrics(registry)
  let attempts = 0
  const deliveries = createReceiverDeliveries({
    receiver,
    post: (_signed, signal) => post(signal, ++attempts),
    // Far longer than a test: a wait that ends did so because it was cut short.
    policy: { initialDelayMs: 600_000, maxDelayMs: 600_000, multiplier: 2 },
    metrics,
    log,
    now: () => Date.now(),
  })
  const steps = webhookSteps(
    {
      receiver,
      codec: {
        decode: (value: Buffer): Promise<AuditEvent> =>
          value.toString() === 'alert'
            ? Promise.resolve(alert)
            : Promise.reject(new CodecError('EVENT_UNDECODABLE', 'not Avro', false)),
      },
      deliveries,
      metrics,
      log,
    },
    context,
  )
  /** The service stops: waits between attempts end at once. */
  const stop = () => void deliveries.stop(600_000)
  const count = async (status: string) =>
    (await registry.getSingleMetric('audit_alerting_webhook_deliveries_total')?.get())?.values.find(
      (value) => value.labels['status'] === status,
    )?.value ?? 0
  const submit = (message: KafkaRecord) =>
    steps.submit({ payload: message, committable: committableOf(message) })
  const commits = () => calls.filter((call) => call.startsWith('commit'))
  return { steps, submit, restart: abort, stop, commits, deliveries: count }
}

const unavailable: AttemptResult = { kind: 'response', status: 503 }

describe('webhook delivery steps', () => {
  it('stopped while waiting to retry: StepInterrupted, the alert neither committed nor skipped', async () => {
    const harness = stepsWith((_signal, attempt) => {
      // The service stops while the receiver answers 503: the retry wait must end at once.
      if (attempt === 1) harness.stop()
      return Promise.resolve(unavailable)
    })
    await expect(harness.submit(record(41))).rejects.toBeInstanceOf(StepInterrupted)
    expect(harness.commits()).toEqual([])
    expect(await harness.deliveries('retried')).toBe(1)
    expect(await harness.deliveries('failed')).toBe(0)
    // Nothing was handed on: a clean stop finishes nothing for it either.
    await harness.steps.join()
    expect(harness.commits()).toEqual([])
  })

  it('restarted with a request in flight (the runtime aborts it): StepInterrupted, nothing committed', async () => {
    const harness = stepsWith(
      (signal) =>
        new Promise<AttemptResult>((_resolve, reject) => {
          // As undici does: an aborted request rejects with the signal's reason.
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
          harness.restart()
        }),
    )
    await expect(harness.submit(record(7))).rejects.toBeInstanceOf(StepInterrupted)
    expect(harness.commits()).toEqual([])
    expect(await harness.deliveries('failed')).toBe(0)
  })

  it('commits the offset after an alert once delivered, and skips (counted) a message that does not decode', async () => {
    const harness = stepsWith((_signal, attempt) =>
      Promise.resolve(attempt === 1 ? { kind: 'response', status: 204 } : unavailable),
    )
    await harness.submit(record(3))
    await harness.submit(record(4, 'not an alert'))
    expect(harness.commits()).toEqual(['commit audit.alerts/0@4', 'commit audit.alerts/0@5'])
    expect(await harness.deliveries('delivered')).toBe(1)
    expect(await harness.deliveries('failed')).toBe(1)
  })
})

describe('the webhook body', () => {
  it('names each triggering event with its content digest: contentDigest of the event the rule evaluated', async () => {
    const engine = createAlertEngine({
      rules: parseRules(
        'rules:\n  - id: every-delete\n    kind: match\n    severity: critical\n    filter: event.action.kind == "delete"\n',
        'rules.yaml',
      ),
      allowedLatenessMs: 60_000,
      maxGroupsPerRule: 100,
      maxEntities: 100,
      checkIntervalMs: 1_000,
    })
    const deleted = auditEvent({ at: notice.atMs, kind: 'delete' })
    const [raised] = engine.evaluate(deleted)
    if (!raised) throw new Error('the rule raises an alert for the delete')
    const event = alertEvent(raised, { instance: 'test', version: null }, raised.atMs, {
      groupId: raised.alertId,
      groupSize: 1,
    })
    if (!receiver) throw new Error('the receivers file has one receiver')
    const bodies: string[] = []
    const { context } = fakeRuntimeContext(log)
    const metrics = createAlertingMetrics(new Registry())
    const deliveries = createReceiverDeliveries({
      receiver,
      post: (signed) => {
        bodies.push(signed.body)
        return Promise.resolve({ kind: 'response', status: 204 })
      },
      policy: { initialDelayMs: 1, maxDelayMs: 1, multiplier: 2 },
      metrics,
      log,
      now: () => Date.now(),
    })
    const steps = webhookSteps(
      { receiver, codec: { decode: () => Promise.resolve(event) }, deliveries, metrics, log },
      context,
    )
    await steps.submit({ payload: record(0), committable: committableOf(record(0)) })
    const [body] = bodies.map((text) => JSON.parse(text) as { data: AlertPayload })
    expect(body?.data.triggering_event_ids).toEqual([deleted.event_id])
    expect(body?.data.triggering_events).toEqual([
      { event_id: deleted.event_id, content_digest: contentDigest(deleted) },
    ])
    expect(contentDigest(deleted)).toMatch(/^[0-9a-f]{64}$/)
  })
})
