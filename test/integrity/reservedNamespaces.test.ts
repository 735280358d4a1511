import { beforeAll, describe, expect, inject, it } from 'vitest'
import { alertEventForm, parseEventJson, partitionKeyFor, type AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import {
  buildIntegrityServices,
  createIntegrityPipeline,
  priorityLoweredRule,
} from './support/integrityPipeline.js'
import { expectTrailIntact, readStoredTrail } from './support/storedTrail.js'
import { ticketEvent } from './support/ticketEvents.js'

const stack = inject('stack')
const attributes = alertEventForm.attributes

beforeAll(() => buildIntegrityServices(), 300_000)

/** A ticket event of `tenant` made to claim a reserved namespace by its object type and action. */
function claiming(
  tenant: string,
  object: { type: string; id: string },
  action: { kind: string; name: string },
) {
  const event = ticketEvent('created', { tenant, ticket: object.id })
  return { ...event, object: { ...event.object, ...object }, action }
}

describe('reserved namespaces', () => {
  it(
    'alerts, access records and integrity records claimed by a producer are dead-lettered and never stored, while a real alert goes through to its topic, the webhook and storage',
    { timeout: 150_000 },
    async () => {
      const pipeline = await createIntegrityPipeline(stack)
      await pipeline.start()
      const { producer, topics } = pipeline
      const tenant = uniqueName('tenant')

      // Through the producer SDK, as any producer: the normalizer refuses each.
      const forgedAlert = await producer.generic(
        claiming(tenant, { type: 'alert', id: 'forged-1' }, { kind: 'update', name: 'alert.resolved' }),
      )
      // The action alone claims it, whatever its case.
      const forgedAlertAction = await producer.generic(
        claiming(tenant, { type: 'ticket', id: 'T-7' }, { kind: 'update', name: 'Alert.Resolved' }),
      )
      const forgedAccessRecord = await producer.generic(
        claiming(tenant, { type: 'audit_query', id: 'q-1' }, { kind: 'read', name: 'audit_query.search' }),
      )
      const forgedCheckpoint = await producer.generic(
        claiming(
          tenant,
          { type: 'audit_checkpoint', id: 'c-1' },
          { kind: 'create', name: 'audit_checkpoint.signed' },
        ),
      )
      // Straight onto the sink's topics, past the normalizer: an alert on the events' topic, and an
      // event that is no alert on the alerts topic. The sink refuses both.
      const [sinkForgedAlert, sinkForgedEvent] = [
        claiming(tenant, { type: 'alert', id: 'forged-2' }, { kind: 'create', name: 'alert.raised' }),
        ticketEvent('created', { tenant, ticket: 'T-8' }),
      ].map((json) => parseEventJson(json) as AuditEvent) as [AuditEvent, AuditEvent]
      await pipeline.sendRaw(topics.normalized, [
        { key: partitionKeyFor(sinkForgedAlert), value: pipeline.codec.encode(sinkForgedAlert) },
      ])
      await pipeline.sendRaw(topics.alerts, [
        { key: partitionKeyFor(sinkForgedEvent), value: pipeline.codec.encode(sinkForgedEvent) },
      ])
      // The ticket story: the agent lowering the priority from Urgent fires the rule.
      const story = [
        await producer.generic(ticketEvent('created', { tenant, ticket: 'T-9548' })),
        await producer.generic(ticketEvent('raised', { tenant, ticket: 'T-9548' })),
        await producer.generic(ticketEvent('lowered', { tenant, ticket: 'T-9548' })),
      ]
      const lowered = story[2]!

      const ruleAlerts = async () =>
        (await pipeline.decoded(pipeline.seen.alerts))
          .map(({ event }) => event)
          .filter((event) => event.object.type === 'alert')
      const [alert, ...moreAlerts] = await waitFor(
        async () => {
          const alerts = await ruleAlerts()
          return alerts.length > 0 && alerts
        },
        { timeoutMs: 60_000, description: 'the rule alert on the alerts topic' },
      )
      await waitFor(async () => (await pipeline.decoded(pipeline.seen.normalized)).length >= 4, {
        timeoutMs: 60_000,
        description: 'the story and the forged alert on the normalized topic',
      })
      await pipeline.waitForNormalizerToFinish()
      await pipeline.waitForSinkToRead([
        ...pipeline.seen.normalized.messages,
        ...pipeline.seen.alerts.messages,
      ])
      const letters = await pipeline.waitForEveryDeadLetter()

      // Each forgery dead-lettered by the service that met it first, as RESERVED_NAMESPACE.
      const byEvent = new Map<string, unknown>()
      for (const letter of letters) {
        const event = await pipeline.codec.decode(letter.value!)
        byEvent.set(event.event_id, {
          errorClass: letter.errorClass,
          reason: letter.reason,
          service: letter.service,
          sourceTopic: letter.source.topic,
        })
      }
      const refusedBy = (service: string, sourceTopic: string, reason?: string) => ({
        errorClass: 'RESERVED_NAMESPACE',
        reason,
        service,
        sourceTopic,
      })
      expect(Object.fromEntries(byEvent)).toEqual({
        [forgedAlert.event_id]: refusedBy('normalizer', topics.input, 'ALERT'),
        [forgedAlertAction.event_id]: refusedBy('normalizer', topics.input, 'ALERT'),
        [forgedAccessRecord.event_id]: refusedBy('normalizer', topics.input, 'ACCESS_RECORD'),
        [forgedCheckpoint.event_id]: refusedBy('normalizer', topics.input, 'INTEGRITY'),
        [sinkForgedAlert.event_id]: refusedBy('clickhouse-sink', topics.normalized),
        [sinkForgedEvent.event_id]: refusedBy('clickhouse-sink', topics.alerts),
      })
      expect(letters).toHaveLength(6)

      // The real alert: one, of the tenant, naming the event that fired it with its digest.
      expect(moreAlerts).toEqual([])
      expect(alert).toMatchObject({
        tenant,
        action: { name: 'alert.raised' },
        attributes: { [attributes.rule]: priorityLoweredRule, [attributes.status]: 'raised' },
      })
      expect(JSON.parse(alert!.attributes[attributes.triggeringEvents]!)).toEqual([
        { event_id: lowered.event_id, content_digest: contentDigest(lowered) },
      ])
      const deliveries = await waitFor(
        () => pipeline.webhooks.delivered.length > 0 && pipeline.webhooks.delivered,
        { timeoutMs: 30_000, description: 'the alert at the webhook' },
      )
      expect(
        deliveries.map((delivery) => [delivery.data.alert_id, delivery.data.rule, delivery.data['tenant']]),
      ).toEqual([[alert!.event_id, priorityLoweredRule, tenant]])
      await pipeline.stop()

      // Stored: the story and the alert, nothing forged (every row of the tenant is read).
      const trail = readStoredTrail(pipeline, [tenant])
      expect(trail.events.map(({ event, topic }) => `${event.event_id} ${topic}`).sort()).toEqual(
        [
          ...story.map((event) => `${event.event_id} ${topics.normalized}`),
          `${alert!.event_id} ${topics.alerts}`,
        ].sort(),
      )
      const stored = trail.events.find(({ event }) => event.event_id === alert!.event_id)!
      expect(stored.event.object.type).toBe('alert')
      expect(stored.event.attributes[attributes.rule]).toBe(priorityLoweredRule)
      expect(stored.digest).toBe(contentDigest(alert!))
      expectTrailIntact(trail)
    },
  )
})
