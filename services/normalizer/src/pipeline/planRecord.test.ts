import { randomUUID } from 'node:crypto'
import {
  EventInvalidError,
  parseEventJson,
  partitionKeyFor,
  type AuditEvent,
} from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it, vi } from 'vitest'
import { eventKeyOf } from '../delivery/dedupWindow.js'
import { parseRoutes } from '../routing/parseRoutes.js'
import { parseLevelsPolicy } from '../levels/levelsPolicy.js'
import {
  planRecord,
  routeHeader,
  temporalLevelHeader,
  type PlanContext,
  type PlannedOutput,
  type RecordPlan,
} from './planRecord.js'
import type { RecordReading } from './readRecord.js'

/** The ticket 9548-B1 story (schemas/examples) in canonical form. */
const [created, raised, lowered] = ticketExampleLines().map((line): AuditEvent => ({
  recorded_at: Date.parse('2024-03-17T00:00:00Z'),
  ...parseEventJson(JSON.parse(line)),
})) as [AuditEvent, AuditEvent, AuditEvent]

const securityEvent: AuditEvent = {
  ...created,
  event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a10',
  category: 'security',
  action: { kind: 'operation', name: 'ticket.escalate' },
}
const debugEvent: AuditEvent = {
  ...raised,
  event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a11',
  category: 'debug',
}

const routes = parseRoutes(
  `
routes:
  - name: drop-debug
    match: { category: debug }
    drop: { reason: debug events are not kept }
  - name: security
    match: { category: security }
    to: [audit.normalized, audit.forward]
default:
  to: [audit.normalized]
`,
  { file: 'routes.yaml' },
)

/** A stand-in for the Avro codec: deterministic bytes per event. */
const encodeJson = (event: AuditEvent) => Buffer.from(JSON.stringify(event))
/** The content digest of an event in the stand-in encoding. */
const digestOfJson = (value: Buffer) => contentDigest(JSON.parse(value.toString()) as AuditEvent)

function contextWith(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    routes,
    encode: encodeJson,
    maxEventBytes: 1_000_000,
    digest: digestOfJson,
    digestSent: () => undefined,
    ...overrides,
  }
}

const eventsReading = (...events: AuditEvent[]): RecordReading => ({ kind: 'events', events })

/** What the plan lists of sent events, for the dedup window: their key and encoded form. */
const sentOf = (...events: AuditEvent[]) =>
  events.map((event) => ({ key: eventKeyOf(event.tenant, event.event_id), value: encodeJson(event) }))

/** The event an output carries, read back from the stand-in encoding. */
const eventIn = (output: PlannedOutput) => JSON.parse(output.value.toString()) as AuditEvent

function outputsOf(plan: RecordPlan) {
  if (plan.kind !== 'outputs') throw new Error(`expected outputs, got ${JSON.stringify(plan)}`)
  return plan
}

describe('planRecord: routing', () => {
  it('sends an event to every topic of its route: the same bytes, its partition key, the route header', () => {
    const encode = vi.fn(encodeJson)
    const plan = outputsOf(planRecord(eventsReading(securityEvent), contextWith({ encode })))
    const value = encodeJson(securityEvent)
    expect(plan.outputs).toEqual([
      {
        topic: 'audit.normalized',
        route: 'security',
        key: Buffer.from('witify/ticket/9548-B1'),
        value,
        headers: { 'audit-route': Buffer.from('security') },
      },
      {
        topic: 'audit.forward',
        route: 'security',
        key: Buffer.from('witify/ticket/9548-B1'),
        value,
        headers: { 'audit-route': Buffer.from('security') },
      },
    ])
    expect(plan.outputs[0]?.key.toString()).toBe(partitionKeyFor(securityEvent))
    expect(routeHeader).toBe('audit-route')
    // Encoded once, whatever the number of topics.
    expect(encode).toHaveBeenCalledTimes(1)
    expect(plan).toMatchObject({ sent: sentOf(securityEvent), dropped: [], duplicates: 0 })
  })

  it('sends an event no route takes to the default route', () => {
    const plan = outputsOf(planRecord(eventsReading(created), contextWith()))
    expect(plan.outputs.map((o) => [o.topic, o.route, o.headers[routeHeader]?.toString()])).toEqual([
      ['audit.normalized', 'default', 'default'],
    ])
  })

  it('plans every event of a message, in order', () => {
    const plan = outputsOf(planRecord(eventsReading(created, securityEvent, lowered), contextWith()))
    expect(plan.outputs.map((o) => [o.topic, eventIn(o).event_id])).toEqual([
      ['audit.normalized', created.event_id],
      ['audit.normalized', securityEvent.event_id],
      ['audit.forward', securityEvent.event_id],
      ['audit.normalized', lowered.event_id],
    ])
    expect(plan.sent).toEqual(sentOf(created, securityEvent, lowered))
  })

  it('counts a dropped event under its route and reason, without encoding or sending it', () => {
    const encode = vi.fn(encodeJson)
    const plan = outputsOf(planRecord(eventsReading(debugEvent, created), contextWith({ encode })))
    expect(plan.dropped).toEqual([{ route: 'drop-debug', reason: 'debug events are not kept' }])
    expect(plan.outputs.map((o) => o.route)).toEqual(['default'])
    expect(plan.sent).toEqual(sentOf(created))
    expect(encode).toHaveBeenCalledExactlyOnceWith(created)
  })

  it('gives the same outputs, byte for byte, for the same reading', () => {
    const reading = eventsReading(created, securityEvent)
    expect(planRecord(reading, contextWith())).toEqual(planRecord(structuredClone(reading), contextWith()))
  })
})

describe('planRecord: duplicates and conflicts', () => {
  it('counts an event that went out recently with the same content and sends nothing for it', () => {
    const encode = vi.fn(encodeJson)
    const digestSent = vi.fn((key: string) =>
      key === eventKeyOf(created.tenant, created.event_id) ? contentDigest(created) : undefined,
    )
    const digest = vi.fn(digestOfJson)
    const plan = outputsOf(
      planRecord(eventsReading(created, lowered), contextWith({ encode, digestSent, digest })),
    )
    expect(plan.duplicates).toBe(1)
    expect(plan.sent).toEqual(sentOf(lowered))
    expect(plan.outputs.map(eventIn)).toEqual([lowered])
    expect(digestSent).toHaveBeenCalledWith(eventKeyOf(created.tenant, created.event_id))
    // Only the repeat is digested (from its encoded form), not the event that is new.
    expect(digest.mock.calls.map(([value]) => value)).toEqual([encodeJson(created)])
  })

  it('sends an event repeated within one message once', () => {
    const plan = outputsOf(planRecord(eventsReading(created, structuredClone(created)), contextWith()))
    expect(plan.duplicates).toBe(1)
    expect(plan.sent).toEqual(sentOf(created))
    expect(plan.outputs).toHaveLength(1)
  })

  it('refuses, with both digests, an event whose id went out with other content', () => {
    const rewritten = { ...created, changes: [] }
    const plan = planRecord(
      eventsReading(lowered, rewritten),
      contextWith({
        digestSent: (key) =>
          key === eventKeyOf(created.tenant, created.event_id) ? contentDigest(created) : undefined,
      }),
    )
    expect(plan).toEqual({
      kind: 'dead-letter',
      cause: {
        errorClass: 'EVENT_ID_CONFLICT',
        message: expect.stringContaining(`event ${created.event_id} of tenant '${created.tenant}'`) as string,
        conflict: {
          tenant: created.tenant,
          eventId: created.event_id,
          storedDigest: contentDigest(created),
          refusedDigest: contentDigest(rewritten),
        },
      },
    })
  })

  it('refuses a message that repeats an id with other content', () => {
    const resent = { ...created, attributes: { channel: 'retry' } }
    const plan = planRecord(eventsReading(created, resent), contextWith())
    expect(plan).toMatchObject({
      kind: 'dead-letter',
      cause: { errorClass: 'EVENT_ID_CONFLICT', conflict: { storedDigest: contentDigest(created) } },
    })
  })

  it('keys events by tenant: another tenant’s event with a known id is its own event', () => {
    const otherTenants = { ...created, tenant: 'other-tenant', changes: [] }
    const plan = outputsOf(
      planRecord(
        eventsReading(otherTenants),
        contextWith({
          digestSent: (key) =>
            key === eventKeyOf(created.tenant, created.event_id) ? contentDigest(created) : undefined,
        }),
      ),
    )
    expect(plan.duplicates).toBe(0)
    expect(plan.sent).toEqual(sentOf(otherTenants))
  })

  it('does not count a dropped event as sent, so a later copy is dropped again rather than a duplicate', () => {
    const plan = outputsOf(planRecord(eventsReading(debugEvent, debugEvent), contextWith()))
    expect(plan).toMatchObject({ duplicates: 0, sent: [], outputs: [] })
    expect(plan.dropped).toHaveLength(2)
  })
})

describe('planRecord: refusals', () => {
  it('dead-letters the whole message as EVENT_INVALID when the schema refuses an event', () => {
    const encode = (event: AuditEvent) => {
      if (event.event_id === lowered.event_id) {
        throw new EventInvalidError([{ field: 'attributes.channel', message: '1 is not a valid "string"' }])
      }
      return encodeJson(event)
    }
    const plan = planRecord(eventsReading(created, lowered), contextWith({ encode }))
    expect(plan.kind).toBe('dead-letter')
    if (plan.kind !== 'dead-letter') return
    expect(plan.cause.errorClass).toBe('EVENT_INVALID')
    expect(plan.cause.message).toContain(lowered.event_id)
    expect(plan.cause.message).toContain('attributes.channel')
  })

  it('lets an encoder failure that is not about the event escape', () => {
    const failure = new TypeError('avsc broke')
    const encode = () => {
      throw failure
    }
    expect(() => planRecord(eventsReading(created), contextWith({ encode }))).toThrow(failure)
  })

  it('dead-letters the message as EVENT_TOO_LARGE when an encoded event exceeds maxEventBytes', () => {
    const size = encodeJson(lowered).length
    const plan = planRecord(eventsReading(created, lowered), contextWith({ maxEventBytes: size - 1 }))
    expect(plan.kind).toBe('dead-letter')
    if (plan.kind !== 'dead-letter') return
    expect(plan.cause.errorClass).toBe('EVENT_TOO_LARGE')
    expect(plan.cause.message).toContain(`${size} bytes`)
    expect(plan.cause.message).toContain(lowered.event_id)

    const exactly = planRecord(eventsReading(lowered), contextWith({ maxEventBytes: size }))
    expect(outputsOf(exactly).outputs).toHaveLength(1)
  })
})

describe('planRecord: readings without events', () => {
  it.each<RecordReading>([
    { kind: 'skipped', reason: 'TOMBSTONE' },
    { kind: 'dead-letter', cause: { errorClass: 'INPUT_REJECTED', reason: 'NOT_JSON', message: 'not JSON' } },
  ])('passes $kind through unchanged', (reading) => {
    const encode = vi.fn(encodeJson)
    expect(planRecord(reading, contextWith({ encode }))).toBe(reading)
    expect(encode).not.toHaveBeenCalled()
  })

  it('plans nothing for a message of no events', () => {
    expect(planRecord(eventsReading(), contextWith())).toEqual({
      kind: 'outputs',
      outputs: [],
      sent: [],
      dropped: [],
      duplicates: 0,
      reduced: [],
    })
  })
})

describe('planRecord: logging levels', () => {
  const levels = parseLevelsPolicy(
    `
rules:
  - { tenant: witify, object_type: ticket, temporal: 1 }
  - { tenant: acme, informative: 2 }
`,
    'levels.yaml',
  )
  const acme = { ...debugEvent, category: 'business', tenant: 'acme' }

  it('marks every output of an event at temporal level 1, and only those, with audit-temporal-level: 1', () => {
    const plan = outputsOf(planRecord(eventsReading(securityEvent, acme, created), contextWith({ levels })))
    expect(temporalLevelHeader).toBe('audit-temporal-level')
    expect(
      plan.outputs.map((o) => [o.topic, eventIn(o).tenant, o.headers[temporalLevelHeader]?.toString()]),
    ).toEqual([
      ['audit.normalized', 'witify', '1'],
      ['audit.forward', 'witify', '1'],
      ['audit.normalized', 'acme', undefined],
      ['audit.normalized', 'witify', '1'],
    ])
    // The route header stays on every output.
    expect(plan.outputs.map((o) => o.headers[routeHeader]?.toString())).toEqual([
      'security',
      'security',
      'default',
      'default',
    ])
    expect(Object.keys(plan.outputs[2]?.headers ?? {})).toEqual([routeHeader])
  })

  it('lists the levels of each event sent below 3/3, not of events dropped or repeated', () => {
    const plan = outputsOf(
      planRecord(
        eventsReading(securityEvent, acme, { ...debugEvent, event_id: randomUUID() }, created),
        contextWith({
          levels,
          // `created` went out a moment ago: a duplicate.
          digestSent: (key) =>
            key === eventKeyOf(created.tenant, created.event_id) ? contentDigest(created) : undefined,
        }),
      ),
    )
    expect(plan.duplicates).toBe(1)
    expect(plan.dropped).toHaveLength(1)
    expect(plan.reduced).toEqual([
      { temporal: 1, informative: 3 },
      { temporal: 3, informative: 2 },
    ])
  })

  it('adds no header and lists nothing without a levels policy', () => {
    const plan = outputsOf(planRecord(eventsReading(securityEvent, created), contextWith()))
    expect(plan.outputs.every((o) => Object.keys(o.headers).join() === routeHeader)).toBe(true)
    expect(plan.reduced).toEqual([])
  })
})
