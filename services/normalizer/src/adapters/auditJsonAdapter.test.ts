import { EventInvalidError, parseEventJson } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { auditJsonAdapter } from './auditJsonAdapter.js'
import type { AdapterOutcome } from './inputAdapter.js'

const lines = ticketExampleLines().map((line) => JSON.parse(line) as Record<string, unknown>)
const raised = lines[1]!

function problemsOf(outcome: AdapterOutcome): string[] {
  if (outcome.status !== 'rejected' || !(outcome.error instanceof EventInvalidError)) {
    throw new Error(`expected an EventInvalidError, got ${outcome.status}`)
  }
  return outcome.error.problems.map((p) => `${p.field}: ${p.message}`)
}

describe('auditJsonAdapter', () => {
  it('reads each documented ticket 9548-B1 event exactly as parseEventJson does', () => {
    for (const line of lines) {
      expect(auditJsonAdapter.toEvents({ body: line, headers: {} })).toEqual({
        status: 'events',
        drafts: [parseEventJson(line)],
      })
    }
  })

  it('recognizes the JSON form by event_id or action, and nothing else', () => {
    expect(auditJsonAdapter.recognizes(raised)).toBe(true)
    expect(auditJsonAdapter.recognizes({ action: {} })).toBe(true)
    expect(auditJsonAdapter.recognizes({ specversion: '1.0' })).toBe(false)
    expect(auditJsonAdapter.recognizes([raised])).toBe(false)
    expect(auditJsonAdapter.declaredBy({ 'content-type': 'application/json' })).toBe(false)
  })

  it('accepts an action kind alias and an event id with spaces, which parseEventJson alone refuses', () => {
    const body = {
      ...raised,
      event_id: ` ${String(raised['event_id'])} `,
      action: { kind: 'Modified', name: 'ticket.update' },
    }
    expect(() => parseEventJson(body)).toThrow(EventInvalidError)
    const outcome = auditJsonAdapter.toEvents({ body, headers: {} })
    expect(outcome).toEqual({ status: 'events', drafts: [parseEventJson(raised)] })
  })

  it('leaves an unknown action kind to parseEventJson to refuse', () => {
    const body = { ...raised, action: { kind: 'upsert', name: 'ticket.update' } }
    expect(problemsOf(auditJsonAdapter.toEvents({ body, headers: {} }))).toEqual([
      'action.kind: expected one of: create, update, delete, read, operation',
    ])
  })

  it('refuses every problem of the record by field', () => {
    const body = { ...raised, tenant: '', priority: 'Urgent', actor: { type: 'robot', id: 'u-1002' } }
    expect(problemsOf(auditJsonAdapter.toEvents({ body, headers: {} }))).toEqual([
      'tenant: must not be empty',
      'actor.type: expected one of: user, service, system',
      "(event): unknown field 'priority'",
    ])
  })

  it('refuses JSON that is not an object', () => {
    expect(problemsOf(auditJsonAdapter.toEvents({ body: [raised], headers: {} }))).toEqual([
      '(event): expected a JSON object, got an array',
    ])
  })
})
