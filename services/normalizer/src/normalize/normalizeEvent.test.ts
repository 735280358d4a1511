import {
  defaultEventPolicy,
  EventInvalidError,
  parseEventJson,
  type AuditEvent,
  type AuditEventDraft,
} from '@audit-pipeline/event-model'
import fc from 'fast-check'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import type { EventDraft } from './eventDraft.js'
import { normalizeEvent, type NormalizeResult } from './normalizeEvent.js'

/** The three events of ticket 9548-B1 (schemas/README.md), read from the documented JSON form. */
const ticketEvents: AuditEventDraft[] = ticketExampleLines().map((line) => parseEventJson(JSON.parse(line)))

const [created, raised, lowered] = ticketEvents as [AuditEventDraft, AuditEventDraft, AuditEventDraft]

/** 16 March 2024 13:12:00.412 UTC, just after the last event. */
const now = Date.parse('2024-03-16T13:12:00.412Z')

function accepted(result: NormalizeResult): AuditEvent {
  if (!result.ok) throw new Error(`expected the event to be accepted: ${result.error.message}`)
  return result.event
}

function problemsOf(result: NormalizeResult): string[] {
  if (result.ok) throw new Error('expected the event to be refused')
  expect(result.error).toBeInstanceOf(EventInvalidError)
  expect(result.error.code).toBe('EVENT_INVALID')
  return result.error.problems.map((p) => `${p.field}: ${p.message}`)
}

describe('normalizeEvent', () => {
  it('accepts the documented events as they are, setting recorded_at to now', () => {
    for (const draft of ticketEvents) {
      expect(accepted(normalizeEvent(draft, { now }))).toEqual({ ...draft, recorded_at: now })
    }
  })

  it('keeps a recorded_at the producer set', () => {
    const sent = Date.parse('2024-03-15T11:17:00.412Z')
    expect(accepted(normalizeEvent({ ...raised, recorded_at: sent }, { now })).recorded_at).toBe(sent)
  })

  it('cuts timestamps to whole milliseconds', () => {
    const event = accepted(
      normalizeEvent({ ...raised, occurred_at: 1710501420000.75, recorded_at: 1710501420412.5 }, { now }),
    )
    expect([event.occurred_at, event.recorded_at]).toEqual([1710501420000, 1710501420412])
  })

  it.each([
    ['Modified', 'update'],
    ['updated', 'update'],
    [' UPDATE ', 'update'],
    ['created', 'create'],
    ['removed', 'delete'],
    ['deleted', 'delete'],
    ['view', 'read'],
  ])('maps the action kind %j to %s', (kind, canonical) => {
    const draft: EventDraft = { ...raised, changes: [], action: { kind, name: 'ticket.update' } }
    expect(accepted(normalizeEvent(draft, { now })).action.kind).toBe(canonical)
  })

  it('folds the category to the policy spelling', () => {
    expect(accepted(normalizeEvent({ ...raised, category: ' Business ' }, { now })).category).toBe('business')
    const policy = { ...defaultEventPolicy, categories: [...defaultEventPolicy.categories, 'Marketing'] }
    expect(accepted(normalizeEvent({ ...raised, category: 'MARKETING' }, { now, policy })).category).toBe(
      'Marketing',
    )
  })

  it('trims ids and the tenant, lower-cases the event id and makes blank optional ids null', () => {
    const draft: EventDraft = {
      ...raised,
      event_id: ' 0D9D5C1E-6A1F-4F0E-9B7A-1C2D3E4F5A02 ',
      tenant: ' witify\n',
      source: { service: ' helpdesk-api ', instance: '  ', version: ' 3.2.0 ' },
      actor: { ...raised.actor, id: ' u-1002 ', session_id: ' s-91 ' },
      on_behalf_of: { ...raised.actor, type: 'service', id: ' scheduler ' },
      action: { kind: 'update', name: ' ticket.update ' },
      object: { type: ' ticket ', id: ' 9548-B1 ', id2: ' ', id3: null, label: 'Export to PDF fails' },
      correlation: { trace_id: ' 4bf92f3577b34da6a3ce929d0e0e4736 ', request_id: '' },
    }
    const event = accepted(normalizeEvent(draft, { now }))
    expect(event.event_id).toBe('0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02')
    expect(event.tenant).toBe('witify')
    expect(event.source).toEqual({ service: 'helpdesk-api', instance: null, version: '3.2.0' })
    expect([event.actor.id, event.actor.session_id, event.on_behalf_of?.id]).toEqual([
      'u-1002',
      's-91',
      'scheduler',
    ])
    expect(event.action.name).toBe('ticket.update')
    expect(event.object).toEqual({
      type: 'ticket',
      id: '9548-B1',
      id2: null,
      id3: null,
      label: 'Export to PDF fails',
    })
    expect(event.correlation).toEqual({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', request_id: null })
  })

  it('computes the documented changes when a producer sent only the snapshots', () => {
    for (const draft of [raised, lowered]) {
      const event = accepted(normalizeEvent({ ...draft, changes: [] }, { now }))
      expect(event.changes).toEqual(draft.changes)
    }
    const event = accepted(normalizeEvent({ ...created, changes: [] }, { now }))
    expect(event.changes.map((c) => c.path)).toEqual(['priority', 'status', 'title'])
  })

  it('compares the tenant’s sensitive paths whole, so no key under them shows in a computed path', () => {
    const before = { customer: { emails: { 'bob@example.com': { verified: false } }, name: 'Bob' } }
    const after = {
      customer: {
        emails: { 'bob@example.com': { verified: true }, 'robert@example.com': { verified: false } },
        name: 'Robert',
      },
      cards: [{ number: { '4111-1111': 'visa' } }],
    }
    const draft = { ...raised, changes: [], before: JSON.stringify(before), after: JSON.stringify(after) }
    const sensitiveFieldsOf = (tenant: string) =>
      tenant === 'witify' ? ['customer.emails', 'cards[*].number'] : []
    const event = accepted(normalizeEvent({ ...draft, tenant: ' witify ' }, { now, sensitiveFieldsOf }))
    expect(event.changes.map((c) => [c.path, c.value_type])).toEqual([
      ['cards', 'array'],
      ['customer.emails', 'object'],
      ['customer.name', 'string'],
    ])
    // Whole values: redaction will replace them, keys and all.
    expect(JSON.parse(event.changes[1]?.new_value ?? 'null')).toEqual(after.customer.emails)
    // sensitive_fields stays the producer's: the redaction policy adds the tenant's.
    expect(event.sensitive_fields).toEqual([])

    // Another tenant's paths are not this one's: keys show as the producer's snapshots have them.
    const other = accepted(normalizeEvent({ ...draft, tenant: 'acme' }, { now, sensitiveFieldsOf }))
    expect(other.changes.map((c) => c.path)).toContain('customer.emails["robert@example.com"]')
  })

  it('keeps the changes a producer sent, without recomputing them', () => {
    const partial = [lowered.changes[0]!]
    expect(accepted(normalizeEvent({ ...lowered, changes: partial }, { now })).changes).toEqual(partial)
  })

  it('leaves changes empty for an update that has only its after snapshot', () => {
    expect(accepted(normalizeEvent({ ...raised, changes: [], before: null }, { now })).changes).toEqual([])
  })

  it('does not modify the draft', () => {
    const draft = structuredClone({ ...lowered, changes: [], tenant: ' witify ' })
    const copy = structuredClone(draft)
    normalizeEvent(draft, { now })
    expect(draft).toEqual(copy)
  })

  it('refuses an unknown action kind, naming the kinds and aliases it knows', () => {
    const [problem, ...rest] = problemsOf(
      normalizeEvent({ ...raised, action: { kind: 'upsert', name: 'ticket.upsert' } }, { now }),
    )
    expect(rest).toEqual([])
    expect(problem).toMatch(
      /^action\.kind: unknown action kind 'upsert'; expected one of: create, update, delete, read, operation \(or an alias: created, .*modified.*\)$/,
    )
  })

  it('refuses an unknown category after folding it', () => {
    expect(problemsOf(normalizeEvent({ ...raised, category: ' Gossip ' }, { now }))).toEqual([
      "category: unknown category 'gossip'; expected one of: business, security, platform, debug",
    ])
  })

  it('reports a snapshot that is not an object together with the policy problems', () => {
    const draft: EventDraft = { ...raised, changes: [], before: '[]', tenant: '  ', event_id: 'ticket-1' }
    expect(problemsOf(normalizeEvent(draft, { now }))).toEqual([
      'before: changes are computed from snapshots that are JSON objects; this one is an array',
      'event_id: expected a UUID, got "ticket-1"',
      'tenant: required',
    ])
  })

  it('refuses ids that are blank once trimmed, and times in the future', () => {
    const draft: EventDraft = {
      ...raised,
      actor: { ...raised.actor, id: ' ' },
      object: { ...raised.object, id: '\t' },
      occurred_at: now + defaultEventPolicy.maxFutureSkewMs + 1,
    }
    expect(problemsOf(normalizeEvent(draft, { now }))).toEqual([
      'occurred_at: 2024-03-16T13:17:00.413Z is in the future (more than 300 s ahead of 2024-03-16T13:12:00.412Z)',
      'actor.id: required',
      'object.id: required',
    ])
  })

  it('refuses a time that is not a number of milliseconds', () => {
    expect(problemsOf(normalizeEvent({ ...raised, occurred_at: Number.NaN }, { now }))).toEqual([
      'occurred_at: expected UTC epoch milliseconds',
    ])
  })

  it('gives the same event when normalizing a normalized event', () => {
    const spellings = fc.record({
      kind: fc.constantFrom('update', 'Updated', ' MODIFY ', 'changed'),
      category: fc.constantFrom('business', 'Business', ' BUSINESS '),
      pad: fc.constantFrom('', ' ', '\t', '  \n'),
      withChanges: fc.boolean(),
      recordedAt: fc.option(fc.integer({ min: 0, max: now }), { nil: undefined }),
    })
    fc.assert(
      fc.property(spellings, ({ kind, category, pad, withChanges, recordedAt }) => {
        const draft: EventDraft = {
          ...lowered,
          event_id: `${pad}${lowered.event_id.toUpperCase()}${pad}`,
          tenant: `${pad}witify${pad}`,
          action: { kind, name: `${pad}ticket.update` },
          category,
          object: { ...lowered.object, id: `${pad}9548-B1${pad}` },
          changes: withChanges ? lowered.changes : [],
          ...(recordedAt === undefined ? {} : { recorded_at: recordedAt }),
        }
        const once = accepted(normalizeEvent(draft, { now }))
        expect(accepted(normalizeEvent(once, { now: now + 1000 }))).toEqual(once)
        expect(once.changes).toEqual(lowered.changes)
      }),
    )
  })
})
