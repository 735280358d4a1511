import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { EventInvalidError } from './eventInvalidError.js'
import { parseEventJson } from './jsonForm.js'

const examples = ticketExampleLines().map((line) => JSON.parse(line) as Record<string, unknown>)

function problemsOf(input: unknown): string[] {
  try {
    parseEventJson(input)
  } catch (error) {
    if (error instanceof EventInvalidError) return error.problems.map((p) => `${p.field}: ${p.message}`)
    throw error
  }
  throw new Error('expected the event to be rejected')
}

describe('parseEventJson', () => {
  it('reads the documented example and fills the defaults', () => {
    const event = parseEventJson(examples[2])
    expect(event.occurred_at).toBe(Date.parse('2024-03-16T13:12:00Z'))
    expect(event.recorded_at).toBeUndefined()
    expect(event.actor).toEqual({
      type: 'user',
      id: 'u-1003',
      display_name: 'Stefany Ilds',
      roles: ['agent'],
      ip: null,
      user_agent: null,
      session_id: null,
    })
    expect(event.on_behalf_of).toBeNull()
    expect(event.changes).toEqual([
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      {
        path: 'solution',
        old_value: null,
        new_value: JSON.stringify("Use the print dialog's Save as PDF until the fix ships."),
        value_type: 'string',
      },
    ])
    expect(JSON.parse(event.before!)).toEqual({
      title: 'Export to PDF fails',
      priority: 'Urgent',
      status: 'open',
    })
    expect(event.outcome).toEqual({ status: 'success', reason: null })
    expect(event.severity).toBe('info')
    expect(event.correlation).toEqual({ trace_id: null, request_id: null })
    expect(event.attributes).toEqual({})
    expect(event.sensitive_fields).toEqual([])
    expect(event.object).toEqual({
      type: 'ticket',
      id: '9548-B1',
      id2: null,
      id3: null,
      label: 'Export to PDF fails',
    })
  })

  it('accepts epoch milliseconds and offsets, and keeps recorded_at when given', () => {
    const event = parseEventJson({
      ...examples[0],
      occurred_at: 1710409500000,
      recorded_at: '2024-03-14T10:45:00+01:00',
    })
    expect(event.occurred_at).toBe(1710409500000)
    expect(event.recorded_at).toBe(Date.parse('2024-03-14T09:45:00Z'))
  })

  it('infers value types, and tells a removed field from one set to null', () => {
    const event = parseEventJson({
      ...examples[1],
      changes: [
        { path: 'estimate_hours', old_value: 2, new_value: 3.5 },
        { path: 'escalated', old_value: false, new_value: true },
        { path: 'assignee', old_value: 'u-1', new_value: null },
        { path: 'tags', old_value: ['pdf'] },
        { path: 'customer', new_value: { id: 'c-9' } },
      ],
    })
    expect(event.changes.map((c) => [c.path, c.old_value, c.new_value, c.value_type])).toEqual([
      ['estimate_hours', '2', '3.5', 'number'],
      ['escalated', 'false', 'true', 'boolean'],
      ['assignee', '"u-1"', 'null', 'null'],
      ['tags', '["pdf"]', null, 'array'],
      ['customer', null, '{"id":"c-9"}', 'object'],
    ])
  })

  it('names every wrong field', () => {
    const withoutActor = { ...examples[0] }
    delete withoutActor['actor']
    expect(
      problemsOf({
        ...withoutActor,
        event_id: 'not-a-uuid',
        occurred_at: '2024-03-14 09:45',
        action: { kind: 'erase', name: 'ticket.erase' },
        object: { type: 'ticket', id: ' ' },
        severity: 'loud',
        colour: 'red',
      }),
    ).toEqual([
      'event_id: expected a UUID, e.g. 3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e8f0a13',
      'occurred_at: expected an ISO-8601 time with a zone (2024-03-14T09:45:00Z) or epoch milliseconds',
      'actor: required',
      'action.kind: expected one of: create, update, delete, read, operation',
      'object.id: must not be empty',
      'severity: expected one of: debug, info, notice, warning, error, critical',
      "(event): unknown field 'colour'",
    ])
  })

  it('rejects unknown fields inside nested records and non-string attributes', () => {
    expect(
      problemsOf({ ...examples[0], actor: { type: 'user', id: 'u', role: 'x' }, attributes: { retries: 3 } }),
    ).toEqual(["actor: unknown field 'role'", 'attributes.retries: attribute values must be strings'])
  })
})

describe('parseEventJson snapshots', () => {
  it('treats a null snapshot as none, like a missing one', () => {
    const event = parseEventJson({ ...examples[1], before: null })
    expect(event.before).toBeNull()
  })
})
