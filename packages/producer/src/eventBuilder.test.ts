import { describe, expect, it } from 'vitest'
import { createEventBuilder } from './eventBuilder.js'

const now = Date.parse('2024-03-16T13:12:00.000Z')
const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222']
const build = () => {
  let next = 0
  return createEventBuilder(
    {
      tenant: 'witify',
      source: { service: 'helpdesk-api', version: '3.2.1' },
      category: 'business',
      snapshots: true,
    },
    { now: () => now, newEventId: () => ids[next++]! },
  )
}
const ticket = { type: 'ticket', id: '9548-B1', label: 'Export to PDF fails' }
const stefany = { id: 'u-1003', display_name: 'Stefany Ilds', roles: ['agent'] }

describe('event builder', () => {
  it('leaves snapshots out of one call when told, and puts them in one call when the default is off', () => {
    const before = { priority: 'Urgent', status: 'open' }
    const after = { priority: 'Normal', status: 'open' }
    const without = build().updated(ticket, before, after, { actor: stefany, snapshots: false })
    expect(without).toMatchObject({ before: null, after: null })
    expect(without?.changes).toEqual([
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
    ])
    expect(build().deleted(ticket, before, { actor: stefany, snapshots: false }).before).toBeNull()
    expect(
      build().operation('merge', ticket, { before, after }, { actor: stefany, snapshots: false }),
    ).toMatchObject({
      before: null,
      after: null,
    })

    const offByDefault = createEventBuilder(
      { tenant: 'witify', source: { service: 'helpdesk-api' }, category: 'business', snapshots: false },
      { now: () => now, newEventId: () => ids[0]! },
    )
    expect(offByDefault.created(ticket, after, { actor: stefany }).after).toBeNull()
    expect(offByDefault.created(ticket, after, { actor: stefany, snapshots: true }).after).toBe(
      '{"priority":"Normal","status":"open"}',
    )
  })

  it('builds an update with field-level changes, snapshots and defaults', () => {
    const event = build().updated(
      ticket,
      { priority: 'Urgent', status: 'open' },
      { priority: 'Normal', status: 'open', solution: 'Save as PDF from the print dialog' },
      { actor: stefany, correlation: { request_id: 'req-1' } },
    )
    expect(event).toEqual({
      event_id: ids[0],
      occurred_at: now,
      recorded_at: now,
      tenant: 'witify',
      source: { service: 'helpdesk-api', instance: null, version: '3.2.1' },
      actor: {
        type: 'user',
        id: 'u-1003',
        display_name: 'Stefany Ilds',
        roles: ['agent'],
        ip: null,
        user_agent: null,
        session_id: null,
      },
      on_behalf_of: null,
      action: { kind: 'update', name: 'ticket.update' },
      category: 'business',
      object: { type: 'ticket', id: '9548-B1', id2: null, id3: null, label: 'Export to PDF fails' },
      changes: [
        { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
        {
          path: 'solution',
          old_value: null,
          new_value: '"Save as PDF from the print dialog"',
          value_type: 'string',
        },
      ],
      before: '{"priority":"Urgent","status":"open"}',
      after: '{"priority":"Normal","solution":"Save as PDF from the print dialog","status":"open"}',
      outcome: { status: 'success', reason: null },
      severity: 'info',
      correlation: { trace_id: null, request_id: 'req-1' },
      attributes: {},
      sensitive_fields: [],
    })
  })

  it('sends nothing for an update that changed nothing, unless asked', () => {
    const same = { priority: 'Normal', due: new Date('2024-03-20T00:00:00Z') }
    const copy = { priority: 'Normal', due: new Date('2024-03-20T00:00:00Z') }
    expect(build().updated(ticket, same, copy, { actor: stefany })).toBeUndefined()
    expect(build().updated(ticket, same, copy, { actor: stefany, emitUnchanged: true })?.changes).toEqual([])
  })

  it('lists every field as added on create and removed on delete', () => {
    const record = { priority: 'Normal', tags: ['pdf'] }
    const created = build().created(ticket, record, { actor: stefany })
    expect(created.action).toEqual({ kind: 'create', name: 'ticket.create' })
    expect(created.changes.map((c) => [c.path, c.old_value, c.new_value])).toEqual([
      ['priority', null, '"Normal"'],
      ['tags', null, '["pdf"]'],
    ])
    const deleted = build().deleted(ticket, record, { actor: stefany })
    expect(deleted.changes.map((c) => [c.path, c.old_value, c.new_value])).toEqual([
      ['priority', '"Normal"', null],
      ['tags', '["pdf"]', null],
    ])
    expect([deleted.before, deleted.after]).toEqual(['{"priority":"Normal","tags":["pdf"]}', null])
  })

  it('makes custom business actions first-class, with per-call overrides', () => {
    const josee = { id: 'u-7', display_name: 'Josée McCortez', roles: ['supervisor'] }
    const event = build().operation(
      'ticket.assign',
      { type: 'ticket', id: '13255A' },
      { before: { assignee: null }, after: { assignee: 'john.doe' } },
      {
        actor: josee,
        onBehalfOf: { type: 'service', id: 'scheduler' },
        tenant: 'acme',
        occurredAt: new Date('2024-03-05T13:22:00Z'),
        eventId: '33333333-3333-4333-8333-333333333333',
        attributes: { reason: 'workload' },
      },
    )
    expect(event.action).toEqual({ kind: 'operation', name: 'ticket.assign' })
    expect(event.event_id).toBe('33333333-3333-4333-8333-333333333333')
    expect(event.tenant).toBe('acme')
    expect(event.occurred_at).toBe(Date.parse('2024-03-05T13:22:00Z'))
    expect(event.on_behalf_of?.type).toBe('service')
    expect(event.changes).toEqual([
      { path: 'assignee', old_value: 'null', new_value: '"john.doe"', value_type: 'string' },
    ])
  })

  it('compares sensitive fields whole, so no change path reveals their keys', () => {
    const event = build().updated(
      { type: 'customer', id: 'c-9' },
      { contacts: { 'ada@example.com': 'primary' } },
      { contacts: { 'bob@example.com': 'primary' } },
      { actor: stefany, sensitiveFields: ['contacts'] },
    )
    expect(event?.changes.map((c) => c.path)).toEqual(['contacts'])
  })
})
