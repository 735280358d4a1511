import type { EventContext, EventDefaults, ObjectInput } from '@audit-pipeline/producer'
import type { AcknowledgedEvent } from '@audit-pipeline/testing'
import { ticketBefore } from './producerThroughput.js'

/**
 * The end-to-end section's traffic, as a helpdesk service would send it through the SDK: ticket
 * updates (`updated(ticket, before, after)`), keyed by ticket, by 200 agents with an address
 * each. Deterministic, so what every stage must hold follows from the plan alone:
 *
 * - every event must be in ClickHouse once;
 * - every `forwardEvery`-th event is a refused update (outcome `failure`), which npm start's
 *   routes (deploy/normalizer/routes.yaml, `refused-actions`) send to the forwarder too;
 * - every `alertEvery`-th event lowers a priority from Urgent on a ticket of its own, which npm
 *   start's rule `priority-lowered-by-non-supervisor` (deploy/alerting/rules.yaml) answers with
 *   exactly one alert; the others raise a priority from Normal, which no rule alerts on.
 */
export const e2eTraffic = {
  alertEvery: 200,
  forwardEvery: 5,
  ticketsPerProducer: 10_000,
  agents: 200,
} as const

/** The rule whose alerts the gate counts: one per alerting event (deploy/alerting/rules.yaml). */
export const e2eAlertRule = 'priority-lowered-by-non-supervisor'

/** One run's identity: its event ids start with `id` (8 hex digits), all its events are `tenant`'s. */
export type E2eRun = { id: number; tenant: string }

/** One event: what its producer calls `updated` with, and which stages besides ClickHouse owe it something. */
export type E2eEventPlan = {
  object: ObjectInput
  before: unknown
  after: unknown
  context: EventContext
  alerting: boolean
  forwarded: boolean
}

/** The SDK's defaults for the section's producers (what a service passes to createAuditProducer). */
export function e2eProducerDefaults(run: E2eRun): Omit<EventDefaults, 'category' | 'snapshots'> {
  return { tenant: run.tenant, source: { service: 'helpdesk-api', version: '3.2.1' } }
}

/** A UUID that says which run, producer and event it is, so ids are known before they are sent. */
export function e2eEventId(run: E2eRun, producer: number, index: number): string {
  const hex = (value: number, digits: number) => value.toString(16).padStart(digits, '0')
  return `${hex(run.id >>> 0, 8)}-${hex(producer, 4)}-4000-8000-${hex(index, 12)}`
}

/** Event `index` of producer `producer`: what it calls the SDK with, and what the pipeline owes it. */
export function e2eEvent(run: E2eRun, producer: number, index: number): E2eEventPlan {
  const { alertEvery, forwardEvery, ticketsPerProducer, agents } = e2eTraffic
  const alerting = index % alertEvery === alertEvery - 1
  const forwarded = !alerting && index % forwardEvery === forwardEvery - 1
  const agent = index % agents
  const context: EventContext = {
    eventId: e2eEventId(run, producer, index),
    actor: { id: `u-${agent}`, roles: ['agent'], ip: `198.51.100.${agent % 250}` },
    correlation: { request_id: `req-${producer}-${index}` },
    ...(forwarded && { outcome: { status: 'failure', reason: 'the ticket is locked by another agent' } }),
  }
  const after = { ...ticketBefore, status: 'pending', note: `step ${index}` }
  if (alerting) {
    return {
      object: { type: 'ticket', id: `ALERT-${producer}-${index}` },
      before: ticketBefore,
      after: { ...after, priority: 'Normal' },
      context,
      alerting,
      forwarded,
    }
  }
  return {
    object: { type: 'ticket', id: `T-${producer}-${index % ticketsPerProducer}` },
    before: { ...ticketBefore, priority: 'Normal' },
    after: { ...after, priority: 'High' },
    context,
    alerting,
    forwarded,
  }
}

/** How many events each of `producers` sends of `events` in all: as even as can be, the first ones one more. */
export function eventsPerProducer(events: number, producers: number): number[] {
  return Array.from(
    { length: producers },
    (_, producer) => Math.floor(events / producers) + (producer < events % producers ? 1 : 0),
  )
}

/** What each stage must hold when every event was acknowledged (failed sends left out by the caller). */
export type E2eExpectation = {
  /** Every event: the ClickHouse view must hold each once. */
  stored: AcknowledgedEvent[]
  /** The refused updates: the forwarder must deliver each. */
  forwarded: AcknowledgedEvent[]
  /** The events behind the rule's alerts: one alert each, delivered and stored. */
  alerting: AcknowledgedEvent[]
}

/**
 * The expectation for `counts[p]` events of each producer `p`, less the events whose send failed
 * (`failed`: event ids). Keyed by ticket, in each producer's order.
 */
export function e2eExpectation(
  run: E2eRun,
  counts: readonly number[],
  failed: ReadonlySet<string> = new Set(),
): E2eExpectation {
  const expectation: E2eExpectation = { stored: [], forwarded: [], alerting: [] }
  for (const [producer, count] of counts.entries()) {
    for (let index = 0; index < count; index++) {
      const plan = e2eEvent(run, producer, index)
      const eventId = plan.context.eventId!
      if (failed.has(eventId)) continue
      const acknowledged = { eventId, key: plan.object.id, sequence: index }
      expectation.stored.push(acknowledged)
      if (plan.forwarded) expectation.forwarded.push(acknowledged)
      if (plan.alerting) expectation.alerting.push(acknowledged)
    }
  }
  return expectation
}
