import { describe, expect, it } from 'vitest'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { eventColumns } from './auditTables.js'
import { eventPartition, eventRow, type AuditEventRow } from './eventRow.js'

const source = { topic: 'audit.normalized', partition: 3, offset: '9223372036854775807' }

const fullEvent: AuditEvent = {
  event_id: '3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e8f0a13',
  occurred_at: Date.parse('2024-02-29T23:59:59.999Z'),
  recorded_at: Date.parse('2024-03-01T00:00:00.412Z'),
  tenant: 'acme',
  source: { service: 'billing-api', instance: 'billing-api-7f9c', version: '3.2.1' },
  actor: {
    type: 'service',
    id: 'svc-scheduler',
    display_name: 'Scheduler',
    roles: ['system', 'billing'],
    ip: '2001:db8::1',
    user_agent: 'scheduler/1.0',
    session_id: 's-1',
  },
  on_behalf_of: {
    type: 'user',
    id: 'u-7',
    display_name: "Ann O'Brien",
    roles: ['owner'],
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0',
    session_id: 's-7',
  },
  action: { kind: 'operation', name: 'invoice.send' },
  category: 'business',
  object: { type: 'invoice-line', id: 'inv-77', id2: '3', id3: '2024', label: 'Line 3' },
  changes: [
    { path: 'status', old_value: '"draft"', new_value: '"sent"', value_type: 'string' },
    { path: 'customer.email', old_value: null, new_value: '"sha256:ab12"', value_type: 'string' },
    { path: 'discount', old_value: '0.5', new_value: null, value_type: 'number' },
  ],
  before: '{"status":"draft"}',
  after: '{"status":"sent"}',
  outcome: { status: 'failure', reason: 'smtp timeout' },
  severity: 'warning',
  correlation: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', request_id: 'req-5b21' },
  attributes: { channel: 'email', 'x.y': 'a "quoted" value' },
  sensitive_fields: ['customer.email'],
}

describe('eventRow', () => {
  it('maps every field of an event to its column', () => {
    expect(eventRow(fullEvent, source)).toEqual({
      event_id: '3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e8f0a13',
      occurred_at: '2024-02-29 23:59:59.999',
      recorded_at: '2024-03-01 00:00:00.412',
      tenant: 'acme',
      source_service: 'billing-api',
      source_instance: 'billing-api-7f9c',
      source_version: '3.2.1',
      actor_type: 'service',
      actor_id: 'svc-scheduler',
      actor_display_name: 'Scheduler',
      actor_roles: ['system', 'billing'],
      actor_ip: '2001:db8::1',
      actor_user_agent: 'scheduler/1.0',
      actor_session_id: 's-1',
      on_behalf_of_type: 'user',
      on_behalf_of_id: 'u-7',
      on_behalf_of_display_name: "Ann O'Brien",
      on_behalf_of_roles: ['owner'],
      on_behalf_of_ip: '203.0.113.7',
      on_behalf_of_user_agent: 'Mozilla/5.0',
      on_behalf_of_session_id: 's-7',
      action_kind: 'operation',
      action_name: 'invoice.send',
      category: 'business',
      object_type: 'invoice-line',
      object_id: 'inv-77',
      object_id2: '3',
      object_id3: '2024',
      object_label: 'Line 3',
      changes: [
        { path: 'status', old_value: '"draft"', new_value: '"sent"', value_type: 'string' },
        { path: 'customer.email', old_value: null, new_value: '"sha256:ab12"', value_type: 'string' },
        { path: 'discount', old_value: '0.5', new_value: null, value_type: 'number' },
      ],
      before: '{"status":"draft"}',
      after: '{"status":"sent"}',
      outcome_status: 'failure',
      outcome_reason: 'smtp timeout',
      severity: 'warning',
      correlation_trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      correlation_request_id: 'req-5b21',
      attributes: { channel: 'email', 'x.y': 'a "quoted" value' },
      sensitive_fields: ['customer.email'],
      kafka_topic: 'audit.normalized',
      kafka_partition: 3,
      kafka_offset: '9223372036854775807',
    } satisfies AuditEventRow)
  })

  it('writes exactly the columns of audit_events, in their order', () => {
    expect(Object.keys(eventRow(fullEvent, source))).toEqual(eventColumns.map(([name]) => name))
  })

  it('writes nulls and empty collections for what the event leaves out', () => {
    const sparse: AuditEvent = {
      ...fullEvent,
      source: { service: 'billing-api', instance: null, version: null },
      actor: {
        type: 'user',
        id: 'u-1',
        display_name: null,
        roles: [],
        ip: null,
        user_agent: null,
        session_id: null,
      },
      on_behalf_of: null,
      object: { type: 'invoice', id: 'inv-77', id2: null, id3: null, label: null },
      changes: [],
      before: null,
      after: null,
      outcome: { status: 'success', reason: null },
      correlation: { trace_id: null, request_id: null },
      attributes: {},
      sensitive_fields: [],
    }
    expect(eventRow(sparse, source)).toMatchObject({
      source_instance: null,
      source_version: null,
      actor_display_name: null,
      actor_roles: [],
      actor_ip: null,
      actor_user_agent: null,
      actor_session_id: null,
      on_behalf_of_type: null,
      on_behalf_of_id: null,
      on_behalf_of_display_name: null,
      on_behalf_of_roles: [],
      on_behalf_of_ip: null,
      on_behalf_of_user_agent: null,
      on_behalf_of_session_id: null,
      object_id2: null,
      object_id3: null,
      object_label: null,
      changes: [],
      before: null,
      after: null,
      outcome_reason: null,
      correlation_trace_id: null,
      correlation_request_id: null,
      attributes: {},
      sensitive_fields: [],
    })
  })

  it('keeps "did not exist" (null) apart from the JSON value null ("null") in changes', () => {
    const event: AuditEvent = {
      ...fullEvent,
      changes: [
        { path: 'assignee', old_value: null, new_value: '"u-1002"', value_type: 'string' },
        { path: 'manager', old_value: '"u-1"', new_value: 'null', value_type: 'null' },
      ],
    }
    expect(eventRow(event, source).changes).toEqual([
      { path: 'assignee', old_value: null, new_value: '"u-1002"', value_type: 'string' },
      { path: 'manager', old_value: '"u-1"', new_value: 'null', value_type: 'null' },
    ])
  })

  it('shares no array or object with the event', () => {
    const row = eventRow(fullEvent, source)
    row.actor_roles.push('x')
    row.on_behalf_of_roles.push('x')
    row.sensitive_fields.push('x')
    row.attributes['y'] = 'x'
    row.changes[0]!.path = 'x'
    expect(fullEvent.actor.roles).toEqual(['system', 'billing'])
    expect(fullEvent.on_behalf_of?.roles).toEqual(['owner'])
    expect(fullEvent.sensitive_fields).toEqual(['customer.email'])
    expect(fullEvent.attributes).not.toHaveProperty('y')
    expect(fullEvent.changes[0]?.path).toBe('status')
  })

  it('rows the ticket 9548-B1 example as documented', () => {
    const rows = ticketExampleLines().map((line, index) => {
      const draft = parseEventJson(JSON.parse(line))
      const event: AuditEvent = { ...draft, recorded_at: draft.occurred_at + 412 }
      return eventRow(event, { topic: 'audit.normalized', partition: 1, offset: String(40 + index) })
    })
    expect(rows.map((row) => [row.occurred_at, row.actor_display_name, row.action_name])).toEqual([
      ['2024-03-14 09:45:00.000', 'Alex Mercer', 'ticket.create'],
      ['2024-03-15 11:17:00.000', 'Jack Peltrow', 'ticket.update'],
      ['2024-03-16 13:12:00.000', 'Stefany Ilds', 'ticket.update'],
    ])
    expect(rows[0]).toMatchObject({
      event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01',
      recorded_at: '2024-03-14 09:45:00.412',
      tenant: 'witify',
      source_service: 'helpdesk-api',
      source_instance: 'helpdesk-api-7f9c',
      source_version: '3.2.0',
      actor_type: 'user',
      actor_id: 'u-1001',
      actor_roles: ['agent'],
      actor_ip: '203.0.113.10',
      actor_session_id: 's-88a1',
      on_behalf_of_id: null,
      action_kind: 'create',
      category: 'business',
      object_type: 'ticket',
      object_id: '9548-B1',
      object_label: 'Export to PDF fails',
      before: null,
      after: '{"title":"Export to PDF fails","priority":"Normal","status":"open"}',
      outcome_status: 'success',
      severity: 'info',
      correlation_request_id: 'req-5b21',
      attributes: { channel: 'web' },
      kafka_offset: '40',
    })
    expect(rows[2]?.changes).toEqual([
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      {
        path: 'solution',
        old_value: null,
        new_value: '"Use the print dialog\'s Save as PDF until the fix ships."',
        value_type: 'string',
      },
    ])
    expect(rows[2]?.before).toBe('{"title":"Export to PDF fails","priority":"Urgent","status":"open"}')
  })
})

describe('eventPartition', () => {
  it('is the UTC month, as toYYYYMM(occurred_at) computes it', () => {
    expect(eventPartition({ occurred_at: Date.parse('2024-03-31T23:59:59.999Z') })).toBe(202403)
    expect(eventPartition({ occurred_at: Date.parse('2024-04-01T00:00:00.000Z') })).toBe(202404)
    expect(eventPartition({ occurred_at: Date.parse('1999-12-31T23:00:00-05:00') })).toBe(200001)
  })
})
