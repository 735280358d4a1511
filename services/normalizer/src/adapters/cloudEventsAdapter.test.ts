import { readFileSync } from 'node:fs'
import { EventInvalidError } from '@audit-pipeline/event-model'
import { describe, expect, it } from 'vitest'
import { normalizeEvent } from '../normalize/normalizeEvent.js'
import type { EventDraft } from '../normalize/eventDraft.js'
import { cloudEventsAdapter } from './cloudEventsAdapter.js'
import { eventIdNamespaces, uuidV5 } from './deterministicEventId.js'
import type { AdapterOutcome } from './inputAdapter.js'
import type { MessageHeaders } from './inputMessage.js'
import { InputRejectedError } from './inputRejectedError.js'

type Json = Record<string, unknown>

/** Stefany Ilds lowers the priority of ticket 9548-B1, sent as a structured CloudEvent. */
const lowered = JSON.parse(
  readFileSync(new URL('fixtures/cloudevents-ticket-priority-lowered.json', import.meta.url), 'utf8'),
) as Json & { data: Json }

const structured = { 'content-type': 'application/cloudevents+json' }
const solution = "Use the print dialog's Save as PDF until the fix ships."

function read(body: unknown, headers: MessageHeaders = structured): AdapterOutcome {
  return cloudEventsAdapter.toEvents({ body, headers })
}

function draftOf(body: unknown, headers?: MessageHeaders): EventDraft {
  const outcome = read(body, headers)
  if (outcome.status !== 'events' || outcome.drafts.length !== 1) {
    throw new Error(
      `expected one event, got ${outcome.status === 'rejected' ? outcome.error.message : outcome.status}`,
    )
  }
  return outcome.drafts[0]!
}

function rejection(outcome: AdapterOutcome): [string, string, string] {
  if (outcome.status !== 'rejected' || !(outcome.error instanceof InputRejectedError)) {
    throw new Error(`expected an InputRejectedError, got ${outcome.status}`)
  }
  expect(outcome.error.adapter).toBe('cloudevents')
  return [outcome.error.reason, outcome.error.field, outcome.error.message]
}

function problemsOf(outcome: AdapterOutcome): string[] {
  if (outcome.status !== 'rejected' || !(outcome.error instanceof EventInvalidError)) {
    throw new Error(`expected an EventInvalidError, got ${outcome.status}`)
  }
  return outcome.error.problems.map((p) => `${p.field}: ${p.message}`)
}

/** The binary-mode headers carrying the fixture's attributes. */
const binaryHeaders = {
  ce_specversion: '1.0',
  ce_type: 'com.witify.helpdesk.ticket.updated',
  ce_source: 'helpdesk-api',
  ce_id: 'hd-20240316-131200-0007',
  ce_time: '2024-03-16T13:12:00Z',
  ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  'content-type': 'application/json',
}

describe('cloudEventsAdapter: mapping', () => {
  it('fills event_id, occurred_at and source from the envelope, field by field', () => {
    expect(draftOf(lowered)).toEqual({
      event_id: uuidV5(eventIdNamespaces.cloudevents, '["helpdesk-api","hd-20240316-131200-0007"]'),
      occurred_at: Date.parse('2024-03-16T13:12:00Z'),
      tenant: 'witify',
      source: { service: 'helpdesk-api', instance: null, version: null },
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
      changes: [],
      before: JSON.stringify(lowered.data['before']),
      after: JSON.stringify(lowered.data['after']),
      outcome: { status: 'success', reason: null },
      severity: 'info',
      correlation: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', request_id: null },
      attributes: { 'cloudevents.type': 'com.witify.helpdesk.ticket.updated' },
      sensitive_fields: [],
    })
  })

  it('becomes the documented 16 March event once normalized, changes computed from the snapshots', () => {
    const result = normalizeEvent(draftOf(lowered), { now: Date.parse('2024-03-16T13:12:01Z') })
    expect(result.ok && result.event.changes).toEqual([
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      { path: 'solution', old_value: null, new_value: JSON.stringify(solution), value_type: 'string' },
    ])
  })

  it('derives the same event id from the same source and id, and another from another source', () => {
    expect(draftOf(structuredClone(lowered)).event_id).toBe(draftOf(lowered).event_id)
    expect(draftOf({ ...lowered, source: 'helpdesk-worker' }).event_id).not.toBe(draftOf(lowered).event_id)
  })

  it('takes a CloudEvents id that is a UUID as the event id', () => {
    const id = '0D9D5C1E-6A1F-4F0E-9B7A-1C2D3E4F5A03'
    expect(draftOf({ ...lowered, id }).event_id).toBe(id)
  })

  it('lets the record win over the envelope', () => {
    const data = {
      ...lowered.data,
      event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a03',
      occurred_at: '2024-03-16T13:11:59Z',
      source: { service: 'helpdesk-api', instance: 'helpdesk-api-2b41', version: '3.2.1' },
      correlation: { trace_id: 'trace-from-record' },
      attributes: { 'cloudevents.type': 'kept', channel: 'web' },
    }
    const draft = draftOf({ ...lowered, data })
    expect(draft.event_id).toBe(data.event_id)
    expect(draft.occurred_at).toBe(Date.parse(data.occurred_at))
    expect(draft.source).toEqual(data.source)
    expect(draft.correlation.trace_id).toBe('trace-from-record')
    expect(draft.attributes).toEqual(data.attributes)
  })

  it('adds the type to the record attributes it has, and ignores an all-zero traceparent', () => {
    const data = { ...lowered.data, attributes: { channel: 'web' } }
    const draft = draftOf({ ...lowered, data, traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })
    expect(draft.attributes).toEqual({
      channel: 'web',
      'cloudevents.type': 'com.witify.helpdesk.ticket.updated',
    })
    expect(draft.correlation.trace_id).toBeNull()
  })

  it('reads a time with an offset or a lower-case zone as UTC milliseconds', () => {
    expect(draftOf({ ...lowered, time: '2024-03-16T14:12:00.250+01:00' }).occurred_at).toBe(
      Date.parse('2024-03-16T13:12:00.250Z'),
    )
    expect(draftOf({ ...lowered, time: '2024-03-16t13:12:00z' }).occurred_at).toBe(
      Date.parse('2024-03-16T13:12:00Z'),
    )
  })

  it('reads binary mode (ce_ headers, the record as the value) as the structured event', () => {
    expect(cloudEventsAdapter.declaredBy(binaryHeaders)).toBe(true)
    expect(draftOf(lowered.data, binaryHeaders)).toEqual(draftOf(lowered))
  })

  it('reads a structured event recognized by its shape alone', () => {
    expect(cloudEventsAdapter.recognizes(lowered)).toBe(true)
    expect(cloudEventsAdapter.recognizes(lowered.data)).toBe(false)
    expect(draftOf(lowered, {})).toEqual(draftOf(lowered))
  })

  it('reads data_base64 holding the record as JSON', () => {
    const { data, ...envelope } = lowered
    const body = { ...envelope, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') }
    expect(draftOf(body)).toEqual(draftOf(lowered))
  })

  it('reads a batch into one draft per event, in order', () => {
    const headers = { 'content-type': 'application/cloudevents-batch+json' }
    expect(cloudEventsAdapter.declaredBy(headers)).toBe(true)
    const second = { ...lowered, id: 'hd-20240316-131200-0008', data: { ...lowered.data, tenant: 'acme' } }
    const outcome = read([lowered, second], headers)
    expect(outcome.status === 'events' && outcome.drafts.map((d) => [d.tenant, d.event_id])).toEqual([
      ['witify', draftOf(lowered).event_id],
      ['acme', draftOf(second).event_id],
    ])
  })
})

describe('cloudEventsAdapter: refusals', () => {
  const { data: _data, ...envelope } = lowered
  const without = (name: string): Json =>
    Object.fromEntries(Object.entries(lowered).filter(([key]) => key !== name))

  it.each([
    [
      'specversion missing',
      without('specversion'),
      ['ENVELOPE_INVALID', 'specversion', 'cloudevents: specversion: required'],
    ],
    [
      'specversion 0.3',
      { ...lowered, specversion: '0.3' },
      [
        'UNSUPPORTED_SPEC_VERSION',
        'specversion',
        'cloudevents: specversion: CloudEvents 0.3 is not supported; expected 1.0',
      ],
    ],
    [
      'id a number',
      { ...lowered, id: 7 },
      ['ENVELOPE_INVALID', 'id', 'cloudevents: id: expected a non-empty string, got a number'],
    ],
    ['source missing', without('source'), ['ENVELOPE_INVALID', 'source', 'cloudevents: source: required']],
    [
      'type blank',
      { ...lowered, type: ' ' },
      ['ENVELOPE_INVALID', 'type', 'cloudevents: type: must not be empty'],
    ],
    [
      'time without a zone',
      { ...lowered, time: '2024-03-16T13:12:00' },
      [
        'ENVELOPE_INVALID',
        'time',
        'cloudevents: time: expected an RFC 3339 time with a zone, e.g. 2024-03-15T11:17:00Z',
      ],
    ],
    [
      'time not a date',
      { ...lowered, time: '2024-02-30T25:00:00Z' },
      [
        'ENVELOPE_INVALID',
        'time',
        'cloudevents: time: expected an RFC 3339 time with a zone, e.g. 2024-03-15T11:17:00Z',
      ],
    ],
    [
      'no time anywhere',
      without('time'),
      [
        'ENVELOPE_INVALID',
        'time',
        'cloudevents: time: required: the event has no time; set the time attribute or data.occurred_at',
      ],
    ],
    [
      'XML data',
      { ...lowered, datacontenttype: 'application/xml' },
      [
        'UNSUPPORTED_CONTENT_TYPE',
        'datacontenttype',
        'cloudevents: datacontenttype: the data must be JSON (application/json or a +json type): it holds the audit record',
      ],
    ],
    [
      'data missing',
      envelope,
      [
        'ENVELOPE_INVALID',
        'data',
        'cloudevents: data: expected the audit record, a JSON object; got missing',
      ],
    ],
    [
      'data an array',
      { ...lowered, data: [] },
      [
        'ENVELOPE_INVALID',
        'data',
        'cloudevents: data: expected the audit record, a JSON object; got an array',
      ],
    ],
    [
      'data and data_base64',
      { ...lowered, data_base64: 'e30=' },
      [
        'ENVELOPE_INVALID',
        'data_base64',
        'cloudevents: data_base64: a CloudEvent has data or data_base64, not both',
      ],
    ],
    [
      'data_base64 a number',
      { ...envelope, data_base64: 1 },
      ['ENVELOPE_INVALID', 'data_base64', 'cloudevents: data_base64: expected base64 text, got a number'],
    ],
    [
      'data_base64 not JSON',
      { ...envelope, data_base64: Buffer.from('<ticket/>').toString('base64') },
      [
        'ENVELOPE_INVALID',
        'data_base64',
        'cloudevents: data_base64: does not decode to UTF-8 JSON text (the audit record)',
      ],
    ],
    [
      'a JSON array',
      [lowered],
      [
        'ENVELOPE_INVALID',
        '(value)',
        'cloudevents: (value): expected a CloudEvent, a JSON object; got an array',
      ],
    ],
  ])('refuses a structured event with %s', (_case, body, expected) => {
    expect(rejection(read(body))).toEqual(expected)
  })

  it('names the header in binary mode', () => {
    const { ce_id: _id, ...noId } = binaryHeaders
    expect(rejection(read(lowered.data, noId))).toEqual([
      'ENVELOPE_INVALID',
      'header ce_id',
      'cloudevents: header ce_id: required',
    ])
    expect(rejection(read(lowered.data, { ...binaryHeaders, 'content-type': 'text/plain' }))[1]).toBe(
      'header content-type',
    )
    expect(rejection(read([lowered.data], binaryHeaders))[1]).toBe('(value)')
  })

  it('names the item of a batch, refusing the whole message', () => {
    const headers = { 'content-type': 'application/cloudevents-batch+json' }
    expect(rejection(read([lowered, { ...lowered, id: '' }], headers))).toEqual([
      'ENVELOPE_INVALID',
      '[1].id',
      'cloudevents: [1].id: must not be empty',
    ])
    expect(rejection(read([lowered, 'x'], headers))[1]).toBe('[1]')
    expect(rejection(read(lowered, headers))).toEqual([
      'ENVELOPE_INVALID',
      '(value)',
      'cloudevents: (value): expected a CloudEvents batch, a JSON array; got an object',
    ])
    const outcome = read([{ ...lowered, data: { ...lowered.data, tenant: '' } }], headers)
    expect(problemsOf(outcome)).toEqual(['[0].data.tenant: must not be empty'])
  })

  it('refuses the audit record with EventInvalidError, fields under data', () => {
    const data = { ...lowered.data, actor: { type: 'user' }, colour: 'red' }
    expect(problemsOf(read({ ...lowered, data }))).toEqual([
      'data.actor.id: required',
      "data.(event): unknown field 'colour'",
    ])
  })

  it('refuses the audit record in binary mode with the record fields themselves', () => {
    expect(problemsOf(read({ ...lowered.data, tenant: 3 }, binaryHeaders))).toEqual([
      'tenant: expected a string',
    ])
  })
})
