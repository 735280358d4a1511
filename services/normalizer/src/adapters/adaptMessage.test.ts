import { EventInvalidError } from '@audit-pipeline/event-model'
import { describe, expect, it } from 'vitest'
import { adaptMessage, type AdaptedMessage } from './adaptMessage.js'
import { auditJsonAdapter } from './auditJsonAdapter.js'
import { cloudEventsAdapter } from './cloudEventsAdapter.js'
import { createDebeziumAdapter } from './debeziumAdapter.js'
import type { InputAdapter } from './inputAdapter.js'
import type { MessageHeaders } from './inputMessage.js'
import { InputRejectedError } from './inputRejectedError.js'

const adapters = [cloudEventsAdapter, createDebeziumAdapter({ tenant: 'witify' }), auditJsonAdapter]

const jsonForm = {
  event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02',
  occurred_at: '2024-03-15T11:17:00Z',
  tenant: 'witify',
  source: { service: 'helpdesk-api' },
  actor: { type: 'user', id: 'u-1002' },
  action: { kind: 'update', name: 'ticket.update' },
  category: 'business',
  object: { type: 'ticket', id: '9548-B1' },
}
const { event_id: _id, occurred_at: _at, source: _source, ...record } = jsonForm
const cloudEvent = {
  specversion: '1.0',
  id: 'e-1',
  source: 'helpdesk-api',
  type: 't',
  time: jsonForm.occurred_at,
  data: record,
}
const changeEvent = {
  before: { id: '9548-B1', priority: 'Normal' },
  after: { id: '9548-B1', priority: 'Urgent' },
  source: {
    connector: 'postgresql',
    name: 'helpdesk-db',
    db: 'helpdesk',
    schema: 'public',
    table: 'tickets',
    ts_ms: 1710501420000,
    lsn: 38190344,
  },
  op: 'u',
  ts_ms: 1710501420412,
}

function adapt(value: unknown, headers: MessageHeaders = {}): AdaptedMessage {
  return adaptMessage({ value: Buffer.from(JSON.stringify(value)), headers }, adapters)
}

function rejection(result: AdaptedMessage): InputRejectedError {
  if (result.status !== 'rejected' || !(result.error instanceof InputRejectedError)) {
    throw new Error(`expected an InputRejectedError, got ${result.status}`)
  }
  expect(result.error.code).toBe('EVENT_UNDECODABLE')
  expect(result.error.retriable).toBe(false)
  return result.error
}

describe('adaptMessage', () => {
  it('skips a tombstone before choosing an adapter', () => {
    expect(adaptMessage({ value: null, headers: { 'audit-input-format': 'debezium' } }, adapters)).toEqual({
      status: 'skipped',
      reason: 'TOMBSTONE',
      adapter: null,
      detectedBy: null,
    })
  })

  it.each([
    ['audit-json', jsonForm],
    ['cloudevents', cloudEvent],
    ['debezium', changeEvent],
    ['debezium', { schema: { type: 'struct' }, payload: changeEvent }],
  ])('recognizes %s by its shape when no header names it', (adapter, body) => {
    const result = adapt(body)
    expect([result.status, result.adapter, result.detectedBy]).toEqual(['events', adapter, 'shape'])
  })

  it('recognizes Debezium transaction markers by their shape', () => {
    const marker = {
      status: 'BEGIN',
      id: '48211:38114712',
      event_count: null,
      data_collections: null,
      ts_ms: 1,
    }
    expect(adapt(marker)).toMatchObject({
      status: 'skipped',
      reason: 'TRANSACTION_MARKER',
      adapter: 'debezium',
    })
  })

  it('takes the adapter the audit-input-format header names, whatever the shape', () => {
    const result = adapt(jsonForm, { 'Audit-Input-Format': ' debezium ' })
    expect([result.adapter, result.detectedBy]).toEqual(['debezium', 'header'])
    expect(rejection(result).field).toBe('op')
  })

  it('chooses CloudEvents by content-type or a ce_specversion header', () => {
    expect(
      adapt(cloudEvent, { 'content-type': 'application/cloudevents+json; charset=utf-8' }),
    ).toMatchObject({
      status: 'events',
      adapter: 'cloudevents',
      detectedBy: 'header',
    })
    const binary = {
      ce_specversion: '1.0',
      ce_id: 'e-1',
      ce_source: 'helpdesk-api',
      ce_type: 't',
      ce_time: jsonForm.occurred_at,
    }
    expect(adapt(record, binary)).toMatchObject({
      status: 'events',
      adapter: 'cloudevents',
      detectedBy: 'header',
    })
  })

  it('refuses a format header naming no adapter, listing the names', () => {
    const error = rejection(adapt(jsonForm, { 'audit-input-format': 'avro' }))
    expect([error.reason, error.adapter, error.field]).toEqual([
      'UNKNOWN_FORMAT',
      null,
      'header audit-input-format',
    ])
    expect(error.message).toBe(
      'input: header audit-input-format: names no input format: expected one of: cloudevents, debezium, audit-json',
    )
  })

  it('refuses JSON of no known shape, saying what each adapter looks for', () => {
    const error = rejection(adapt({ hello: 'world' }))
    expect(error.reason).toBe('UNRECOGNIZED_SHAPE')
    expect(error.message).toBe(
      'input: (value): no audit-input-format or content-type header named the format, and the JSON matches none of: cloudevents (an object with specversion); debezium (an object with op and source, or with payload.op and payload.source); audit-json (an object with event_id or action)',
    )
  })

  it('refuses a value that is not UTF-8 JSON without quoting it', () => {
    const notJson = rejection(
      adaptMessage({ value: Buffer.from('{"tenant": secret'), headers: {} }, adapters),
    )
    expect([notJson.reason, notJson.message]).toEqual([
      'NOT_JSON',
      'input: (value): is not UTF-8 JSON text (17 bytes)',
    ])
    expect(notJson.cause).toBeInstanceOf(SyntaxError)
    const notUtf8 = rejection(adaptMessage({ value: Buffer.from([0x7b, 0xff, 0x7d]), headers: {} }, adapters))
    expect(notUtf8.reason).toBe('NOT_JSON')
    const empty = rejection(adaptMessage({ value: Buffer.alloc(0), headers: {} }, adapters))
    expect(empty.reason).toBe('NOT_JSON')
  })

  it('names the declared adapter when its message is not JSON', () => {
    const result = adaptMessage(
      { value: Buffer.from('nope'), headers: { 'audit-input-format': 'debezium' } },
      adapters,
    )
    expect([rejection(result).adapter, result.adapter, result.detectedBy]).toEqual([
      'debezium',
      'debezium',
      'header',
    ])
  })

  it('points an Avro value to the codec', () => {
    const error = rejection(adaptMessage({ value: Buffer.from([0, 0, 0, 0, 1, 2]), headers: {} }, adapters))
    expect(error.reason).toBe('NOT_JSON')
    expect(error.message).toMatch(/Confluent Avro magic byte/)
  })

  it('passes a refusal of the audit record through as EventInvalidError', () => {
    const result = adapt({ ...jsonForm, tenant: '' })
    expect(result.status === 'rejected' && result.error).toBeInstanceOf(EventInvalidError)
  })

  it('reports an adapter that throws as ADAPTER_FAILED instead of throwing', () => {
    const bug = new TypeError('boom')
    const broken: InputAdapter = {
      name: 'broken',
      shape: 'anything',
      declaredBy: () => false,
      recognizes: () => true,
      toEvents: () => {
        throw bug
      },
    }
    const result = adaptMessage({ value: Buffer.from('{}'), headers: {} }, [broken])
    const error = rejection(result)
    expect([error.reason, error.adapter, error.cause, result.detectedBy]).toEqual([
      'ADAPTER_FAILED',
      'broken',
      bug,
      'shape',
    ])
  })
})
