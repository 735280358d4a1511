import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import type { DeadLetter } from '@audit-pipeline/dead-letter'
import { alertEventForm, type AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import {
  buildIntegrityServices,
  createIntegrityPipeline,
  type IntegrityPipeline,
} from './support/integrityPipeline.js'
import { expectTrailIntact, readStoredTrail, type StoredTrail } from './support/storedTrail.js'
import { ticketEvent } from './support/ticketEvents.js'

const stack = inject('stack')
const conflictRule = 'pipeline.event-id-conflict'
const attributes = alertEventForm.attributes

beforeAll(() => buildIntegrityServices(), 300_000)

/** The conflict alerts on the alerts topic so far, decoded. */
async function conflictAlerts(pipeline: IntegrityPipeline): Promise<AuditEvent[]> {
  return (await pipeline.decoded(pipeline.seen.alerts))
    .map(({ event }) => event)
    .filter((event) => event.attributes[attributes.rule] === conflictRule)
}

/** What a conflict must raise, whichever service refused it: one critical alert of the tenant, on the alerts topic and at the webhook. */
async function expectConflictAlert(
  pipeline: IntegrityPipeline,
  expected: {
    tenant: string
    eventId: string
    storedDigest: string
    refusedDigest: string
    refusedBy: string
  },
): Promise<AuditEvent> {
  const [alert, ...more] = await conflictAlerts(pipeline)
  expect(more, 'one conflict alert').toEqual([])
  expect(alert).toMatchObject({
    tenant: expected.tenant,
    severity: 'critical',
    category: 'security',
    action: { name: 'alert.raised' },
    object: { type: 'alert', id2: conflictRule },
    attributes: {
      [attributes.status]: 'raised',
      [attributes.rule]: conflictRule,
      [attributes.groupKey]: expected.eventId,
    },
  })
  expect(JSON.parse(alert!.attributes[attributes.figures]!)).toMatchObject({
    event_id: expected.eventId,
    stored_digest: expected.storedDigest,
    refused_digest: expected.refusedDigest,
    refused_by: expected.refusedBy,
  })
  expect(JSON.parse(alert!.attributes[attributes.triggeringEvents]!)).toEqual([
    { event_id: expected.eventId, content_digest: expected.refusedDigest },
  ])
  // Delivered to the webhook receiver, signed (the receiver verifies every signature), once.
  const deliveries = await waitFor(
    () => {
      const found = pipeline.webhooks.delivered.filter((delivery) => delivery.data.rule === conflictRule)
      return found.length > 0 && found
    },
    { timeoutMs: 30_000, description: 'the conflict alert at the webhook' },
  )
  expect(deliveries.map((delivery) => delivery.data)).toEqual([
    expect.objectContaining({
      alert_id: alert!.event_id,
      status: 'raised',
      severity: 'critical',
      tenant: expected.tenant,
      figures: expect.objectContaining({
        stored_digest: expected.storedDigest,
        refused_digest: expected.refusedDigest,
      }) as unknown,
    }),
  ])
  expect(pipeline.webhooks.badSignatures).toBe(0)
  return alert!
}

/** The one EVENT_ID_CONFLICT dead letter, naming both copies. */
function expectConflictDeadLetter(
  letters: readonly DeadLetter[],
  expected: {
    tenant: string
    eventId: string
    storedDigest: string
    refusedDigest: string
    service: string
    sourceTopic: string
  },
): void {
  expect(letters.map((letter) => letter.errorClass)).toEqual(['EVENT_ID_CONFLICT'])
  const [letter] = letters
  expect(letter!.service).toBe(expected.service)
  expect(letter!.source.topic).toBe(expected.sourceTopic)
  expect(letter!.conflict).toEqual({
    tenant: expected.tenant,
    eventId: expected.eventId,
    storedDigest: expected.storedDigest,
    refusedDigest: expected.refusedDigest,
  })
}

/** The stored rows and chain entries of one (tenant, event_id) (the tests expect one of each). */
function storedOnce(trail: StoredTrail, tenant: string, eventId: string) {
  const rows = trail.events.filter(({ event }) => event.tenant === tenant && event.event_id === eventId)
  const entries = trail.entries.filter((entry) => entry.tenant === tenant && entry.event_id === eventId)
  return { rows, entries }
}

describe('append-only by (tenant, event_id) and content digest', () => {
  it(
    'within the normalizer window: the first copy is kept, another content under its id is dead-lettered naming both digests and raises a critical alert; an identical replay is dropped',
    { timeout: 150_000 },
    async () => {
      const pipeline = await createIntegrityPipeline(stack)
      await pipeline.start()
      const { producer } = pipeline
      const [tenant, otherTenant] = [uniqueName('tenant'), uniqueName('tenant')]
      const eventId = randomUUID()
      const ticket = 'T-1'

      // One ticket, so one partition: the normalizer reads them in this order.
      const original = await producer.generic(ticketEvent('created', { tenant, ticket, eventId }))
      const rewritten = await producer.generic(
        ticketEvent('created', { tenant, ticket, eventId, change: { attributes: { channel: 'rewritten' } } }),
      )
      const replay = await producer.generic(ticketEvent('created', { tenant, ticket, eventId }))
      // Another tenant's event under the same id is another event: (tenant, event_id) is the identity.
      const otherTenantsEvent = await producer.generic(
        ticketEvent('created', { tenant: otherTenant, ticket, eventId }),
      )
      // After the replay on the same partition: once it is through, so is the replay.
      const next = await producer.generic(ticketEvent('raised', { tenant, ticket }))

      const storedDigest = contentDigest(original)
      const refusedDigest = contentDigest(rewritten)
      expect(refusedDigest).not.toBe(storedDigest)
      expect(contentDigest(replay)).toBe(storedDigest)

      await waitFor(async () => (await conflictAlerts(pipeline)).length > 0, {
        timeoutMs: 60_000,
        description: 'the conflict alert on the alerts topic',
      })
      const normalized = await waitFor(
        async () => {
          const events = await pipeline.decoded(pipeline.seen.normalized)
          return events.length >= 3 && events
        },
        { timeoutMs: 60_000, description: 'three normalized events' },
      )
      await pipeline.waitForNormalizerToFinish()
      await pipeline.waitForSinkToRead([
        ...pipeline.seen.normalized.messages,
        ...pipeline.seen.alerts.messages,
      ])
      const letters = await pipeline.waitForEveryDeadLetter()

      // The normalizer sent the first copy on, once, refused the other and dropped the replay.
      // (Sorted: the other tenant's event may be on another partition.)
      expect(
        normalized.map(({ event }) => `${event.tenant} ${event.event_id} ${contentDigest(event)}`).sort(),
      ).toEqual(
        [
          `${tenant} ${eventId} ${storedDigest}`,
          `${otherTenant} ${eventId} ${contentDigest(otherTenantsEvent)}`,
          `${tenant} ${next.event_id} ${contentDigest(next)}`,
        ].sort(),
      )
      expectConflictDeadLetter(letters, {
        tenant,
        eventId,
        storedDigest,
        refusedDigest,
        service: 'normalizer',
        sourceTopic: pipeline.topics.input,
      })
      // The refused copy's bytes are in the dead letter, as the producer sent them.
      expect(contentDigest(await pipeline.codec.decode(letters[0]!.value!))).toBe(refusedDigest)
      expect(await pipeline.metric('normalizer', 'audit_normalizer_duplicates_dropped_total')).toBe(1)
      const alert = await expectConflictAlert(pipeline, {
        tenant,
        eventId,
        storedDigest,
        refusedDigest,
        refusedBy: 'normalizer',
      })
      expect(await pipeline.metric('sink', 'audit_sink_event_id_conflicts_total')).toBe(0)
      await pipeline.stop()

      const trail = readStoredTrail(pipeline, [tenant, otherTenant])
      const { rows, entries } = storedOnce(trail, tenant, eventId)
      expect(
        rows.map((row) => row.digest),
        'the original, stored once',
      ).toEqual([storedDigest])
      expect(rows[0]!.event.attributes).toEqual({ channel: 'web' })
      expect(entries.map((entry) => entry.content_digest)).toEqual([storedDigest])
      expect(storedOnce(trail, otherTenant, eventId).rows.map((row) => row.digest)).toEqual([
        contentDigest(otherTenantsEvent),
      ])
      // The alert is stored, in the tenant's own trail, read from the alerts topic.
      const storedAlerts = trail.events.filter(({ event }) => event.object.type === 'alert')
      expect(storedAlerts.map(({ event, topic }) => [event.event_id, event.tenant, topic])).toEqual([
        [alert.event_id, tenant, pipeline.topics.alerts],
      ])
      expect(storedAlerts[0]!.digest).toBe(contentDigest(alert))
      expect(trail.events).toHaveLength(4)
      expectTrailIntact(trail)
    },
  )

  it(
    'at any age: after every service restarted (the normalizer remembering nothing), the sink keeps the stored original, commits an identical replay without storing it, and dead-letters another content, raising the alert',
    { timeout: 180_000 },
    async () => {
      const pipeline = await createIntegrityPipeline(stack)
      await pipeline.start()
      const { producer } = pipeline
      const tenant = uniqueName('tenant')
      // Two stored events: after the restart one is replayed as it was, the other sent with other content.
      const replayed = await producer.generic(ticketEvent('created', { tenant, ticket: 'T-1' }))
      const rewrittenLater = await producer.generic(ticketEvent('created', { tenant, ticket: 'T-2' }))
      await waitFor(() => pipeline.seen.normalized.messages.length >= 2, {
        timeoutMs: 60_000,
        description: 'two normalized events',
      })
      await pipeline.waitForSinkToRead(pipeline.seen.normalized.messages)
      await pipeline.stop()

      // Stored and chained before anything is sent again.
      const before = readStoredTrail(pipeline, [tenant])
      for (const event of [replayed, rewrittenLater]) {
        const { rows, entries } = storedOnce(before, tenant, event.event_id)
        expect(rows.map((row) => row.digest)).toEqual([contentDigest(event)])
        expect(entries.map((entry) => entry.content_digest)).toEqual([contentDigest(event)])
      }
      expect(before.checkpoints.length, 'the chains were checkpointed before the stop').toBeGreaterThan(0)

      await pipeline.start()
      const replay = await producer.generic(
        ticketEvent('created', { tenant, ticket: 'T-1', eventId: replayed.event_id }),
      )
      const rewritten = await producer.generic(
        ticketEvent('created', {
          tenant,
          ticket: 'T-2',
          eventId: rewrittenLater.event_id,
          change: { attributes: { channel: 'rewritten' } },
        }),
      )
      const storedDigest = contentDigest(rewrittenLater)
      const refusedDigest = contentDigest(rewritten)
      expect(contentDigest(replay)).toBe(contentDigest(replayed))
      expect(refusedDigest).not.toBe(storedDigest)

      await waitFor(async () => (await conflictAlerts(pipeline)).length > 0, {
        timeoutMs: 60_000,
        description: 'the conflict alert on the alerts topic',
      })
      // The restarted normalizer knew neither id: both copies went on to the sink.
      const normalized = await waitFor(
        async () => {
          const events = await pipeline.decoded(pipeline.seen.normalized)
          return events.length >= 4 && events
        },
        { timeoutMs: 60_000, description: 'four normalized events' },
      )
      expect(normalized.map(({ event }) => contentDigest(event)).sort()).toEqual(
        [contentDigest(replayed), contentDigest(replayed), storedDigest, refusedDigest].sort(),
      )
      await pipeline.waitForNormalizerToFinish()
      await pipeline.waitForSinkToRead([
        ...pipeline.seen.normalized.messages,
        ...pipeline.seen.alerts.messages,
      ])
      const letters = await pipeline.waitForEveryDeadLetter()

      expectConflictDeadLetter(letters, {
        tenant,
        eventId: rewrittenLater.event_id,
        storedDigest,
        refusedDigest,
        service: 'clickhouse-sink',
        sourceTopic: pipeline.topics.normalized,
      })
      expect(contentDigest(await pipeline.codec.decode(letters[0]!.value!))).toBe(refusedDigest)
      expect(await pipeline.metric('sink', 'audit_sink_replays_total')).toBe(1)
      expect(await pipeline.metric('sink', 'audit_sink_event_id_conflicts_total')).toBe(1)
      const alert = await expectConflictAlert(pipeline, {
        tenant,
        eventId: rewrittenLater.event_id,
        storedDigest,
        refusedDigest,
        refusedBy: 'clickhouse-sink',
      })
      await pipeline.stop()

      const trail = readStoredTrail(pipeline, [tenant])
      for (const event of [replayed, rewrittenLater]) {
        const { rows, entries } = storedOnce(trail, tenant, event.event_id)
        expect(
          rows.map((row) => row.digest),
          `${event.event_id} stored once, as first sent`,
        ).toEqual([contentDigest(event)])
        expect(entries.map((entry) => entry.content_digest)).toEqual([contentDigest(event)])
      }
      // Their chain entries are untouched: the entries read before the restart, byte for byte.
      expect(trail.entries.filter((entry) => entry.category !== 'security')).toEqual(before.entries)
      expect(storedOnce(trail, tenant, rewrittenLater.event_id).rows[0]!.event.attributes).toEqual({
        channel: 'web',
      })
      expect(
        trail.events.filter(({ event }) => event.object.type === 'alert').map(({ event }) => event.event_id),
      ).toEqual([alert.event_id])
      expect(trail.events).toHaveLength(3)
      expectTrailIntact(trail)
    },
  )
})
