import type { AuditEvent } from '@audit-pipeline/event-model'

/** An event for unit tests: a ticket update whose `solution` is sensitive. Not part of the build. */
export function sampleEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a03',
    occurred_at: Date.parse('2024-03-16T13:12:00.250Z'),
    recorded_at: Date.parse('2024-03-16T13:12:01Z'),
    tenant: 'witify',
    source: { service: 'helpdesk-api', instance: 'helpdesk-api-2b41', version: '3.2.1' },
    actor: {
      type: 'user',
      id: 'u-1003',
      display_name: 'Stefany Ilds',
      roles: ['agent'],
      ip: '203.0.113.7',
      user_agent: null,
      session_id: null,
    },
    on_behalf_of: null,
    action: { kind: 'update', name: 'ticket.update' },
    category: 'security',
    object: { type: 'ticket', id: '9548-B1', id2: null, id3: null, label: 'Export to PDF fails' },
    changes: [
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      { path: 'solution', old_value: null, new_value: '"Use Save as PDF"', value_type: 'string' },
    ],
    before: '{"priority":"Urgent"}',
    after: '{"priority":"Normal","solution":"Use Save as PDF"}',
    outcome: { status: 'success', reason: null },
    severity: 'warning',
    correlation: { trace_id: null, request_id: 'req-1' },
    attributes: { channel: 'web' },
    sensitive_fields: ['solution'],
    ...overrides,
  }
}
