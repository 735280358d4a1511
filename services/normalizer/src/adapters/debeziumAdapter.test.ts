import { readFileSync } from 'node:fs'
import { snapshotJsonText } from '@audit-pipeline/event-model'
import { describe, expect, it } from 'vitest'
import type { EventDraft } from '../normalize/eventDraft.js'
import type { DebeziumAdapterConfig } from './debeziumConfig.js'
import { createDebeziumAdapter } from './debeziumAdapter.js'
import { eventIdNamespaces, uuidV5 } from './deterministicEventId.js'
import type { AdapterOutcome, InputAdapter } from './inputAdapter.js'
import { AdapterConfigError, InputRejectedError } from './inputRejectedError.js'

type Json = Record<string, unknown>
type Payload = Json & { before: Json | null; after: Json | null; source: Json; op: string; ts_ms: number }

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8')) as Json
}

/** Ticket 9548-B1 in the helpdesk's PostgreSQL, as the Debezium connector `helpdesk-db` wrote it. */
const fixtures = {
  create: fixture('debezium-ticket-create.json'), // with the schema wrapper
  raise: fixture('debezium-ticket-update-priority.json'), // without
  lower: fixture('debezium-ticket-update-solution.json'), // with
  delete: fixture('debezium-ticket-delete.json'), // without
}
const schema = fixtures.create['schema']
const payloadOf = (message: Json): Payload => ('payload' in message ? message['payload'] : message) as Payload
const wrap = (payload: Json): Json => ({ schema, payload })
const [created, raised, , deleted] = Object.values(fixtures).map(payloadOf) as [
  Payload,
  Payload,
  Payload,
  Payload,
]

const ticketsConfig: DebeziumAdapterConfig = {
  tenant: 'witify',
  tables: { 'public.tickets': { objectType: 'ticket', actorColumn: 'updated_by', labelColumn: 'title' } },
}
const adapter = createDebeziumAdapter(ticketsConfig)

function draftOf(body: unknown, using: InputAdapter = adapter): EventDraft {
  const outcome = using.toEvents({ body, headers: {} })
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
  expect([outcome.error.adapter, outcome.error.code]).toEqual(['debezium', 'EVENT_UNDECODABLE'])
  return [outcome.error.reason, outcome.error.field, outcome.error.message]
}

const read = (body: unknown) => adapter.toEvents({ body, headers: {} })
const withSource = (payload: Payload, source: Json): Payload => ({
  ...payload,
  source: { ...payload.source, ...source },
})
const system = {
  type: 'system',
  id: 'helpdesk-db',
  display_name: null,
  roles: [],
  ip: null,
  user_agent: null,
  session_id: null,
}
const user = (id: string) => ({ ...system, type: 'user', id })
const text = (value: unknown) => JSON.stringify(value)
const solution = "Use the print dialog's Save as PDF until the fix ships."

describe('debeziumAdapter: ticket 9548-B1 from PostgreSQL', () => {
  it('maps the create, field by field', () => {
    expect(draftOf(fixtures.create)).toEqual({
      event_id: uuidV5(
        eventIdNamespaces.debezium,
        snapshotJsonText({
          connector: 'postgresql',
          name: 'helpdesk-db',
          db: 'helpdesk',
          schema: 'public',
          table: 'tickets',
          op: 'c',
          position: { lsn: 38114712, sequence: '["38114600","38114712"]', txId: 48211 },
          key: ['9548-B1', null, null],
        }),
      ),
      occurred_at: Date.parse('2024-03-14T09:45:00Z'),
      tenant: 'witify',
      source: { service: 'helpdesk-db', instance: null, version: '2.7.3.Final' },
      actor: user('u-1001'),
      on_behalf_of: null,
      action: { kind: 'create', name: 'ticket.create' },
      category: 'business',
      object: { type: 'ticket', id: '9548-B1', id2: null, id3: null, label: 'Export to PDF fails' },
      changes: [
        { path: 'created_by', old_value: null, new_value: '"u-1001"', value_type: 'string' },
        { path: 'id', old_value: null, new_value: '"9548-B1"', value_type: 'string' },
        { path: 'priority', old_value: null, new_value: '"Normal"', value_type: 'string' },
        { path: 'solution', old_value: null, new_value: 'null', value_type: 'null' },
        { path: 'status', old_value: null, new_value: '"open"', value_type: 'string' },
        { path: 'title', old_value: null, new_value: '"Export to PDF fails"', value_type: 'string' },
        {
          path: 'updated_at',
          old_value: null,
          new_value: '"2024-03-14T09:45:00.000000Z"',
          value_type: 'string',
        },
        { path: 'updated_by', old_value: null, new_value: '"u-1001"', value_type: 'string' },
      ],
      before: null,
      after: snapshotJsonText(created.after),
      outcome: { status: 'success', reason: null },
      severity: 'info',
      correlation: { trace_id: null, request_id: null },
      attributes: {
        'debezium.connector': 'postgresql',
        'debezium.table': 'helpdesk.public.tickets',
        'debezium.position': '{"lsn":38114712,"sequence":"[\\"38114600\\",\\"38114712\\"]","txId":48211}',
        'debezium.transaction_id': '48211:38114712',
      },
      sensitive_fields: [],
    })
  })

  it('maps the priority raised by Jack Peltrow to an update with its field-level changes', () => {
    const draft = draftOf(fixtures.raise)
    expect(draft.occurred_at).toBe(Date.parse('2024-03-15T11:17:00Z'))
    expect(draft.actor).toEqual(user('u-1002'))
    expect(draft.action).toEqual({ kind: 'update', name: 'ticket.update' })
    expect(draft.changes).toEqual([
      { path: 'priority', old_value: '"Normal"', new_value: '"Urgent"', value_type: 'string' },
      {
        path: 'updated_at',
        old_value: '"2024-03-14T09:45:00.000000Z"',
        new_value: '"2024-03-15T11:17:00.000000Z"',
        value_type: 'string',
      },
      { path: 'updated_by', old_value: '"u-1001"', new_value: '"u-1002"', value_type: 'string' },
    ])
    expect([draft.before, draft.after]).toEqual([
      snapshotJsonText(raised.before),
      snapshotJsonText(raised.after),
    ])
    expect(draft.attributes['debezium.transaction_id']).toBeUndefined()
  })

  it('maps the priority lowered and solution added by Stefany Ilds', () => {
    const draft = draftOf(fixtures.lower)
    expect(draft.actor).toEqual(user('u-1003'))
    expect(draft.changes.filter((c) => !c.path.startsWith('updated_'))).toEqual([
      { path: 'priority', old_value: '"Urgent"', new_value: '"Normal"', value_type: 'string' },
      { path: 'solution', old_value: 'null', new_value: text(solution), value_type: 'string' },
    ])
  })

  it('maps the delete to the connector as actor (the row names its last writer, not the deleter)', () => {
    const draft = draftOf(fixtures.delete)
    expect(draft.actor).toEqual(system)
    expect(draft.action).toEqual({ kind: 'delete', name: 'ticket.delete' })
    expect(draft.object.id).toBe('9548-B1')
    expect([draft.before, draft.after]).toEqual([snapshotJsonText(deleted.before), null])
    expect(draft.changes.map((c) => [c.path, c.new_value])).toEqual(
      Object.keys(deleted.before!)
        .sort()
        .map((column) => [column, null]),
    )
  })

  it.each(Object.entries(fixtures))(
    'reads the %s event the same with and without the schema wrapper',
    (_op, message) => {
      const payload = payloadOf(message)
      expect(draftOf(payload)).toEqual(draftOf(wrap(payload)))
      expect(adapter.recognizes(payload)).toBe(true)
      expect(adapter.recognizes(wrap(payload))).toBe(true)
    },
  )
})

describe('debeziumAdapter: event ids', () => {
  it('gives the same id when the same change is read again, even processed at another time', () => {
    const again = { ...raised, ts_ms: raised.ts_ms + 86_400_000, ts_us: 0, ts_ns: 0 }
    expect(draftOf(again).event_id).toBe(draftOf(fixtures.raise).event_id)
    expect(draftOf(structuredClone(fixtures.lower)).event_id).toBe(draftOf(fixtures.lower).event_id)
  })

  it('gives each change its own id', () => {
    const ids = Object.values(fixtures).map((message) => draftOf(message).event_id)
    expect(new Set(ids).size).toBe(4)
    const original = draftOf(raised).event_id
    expect(draftOf(withSource(raised, { lsn: 38190345 })).event_id).not.toBe(original)
    expect(draftOf(withSource(raised, { table: 'archived_tickets' })).event_id).not.toBe(original)
    expect(draftOf(withSource(raised, { name: 'helpdesk-db-2' })).event_id).not.toBe(original)
  })

  it('uses MySQL binlog coordinates as the position', () => {
    const mysql = withSource(raised, {
      connector: 'mysql',
      schema: undefined,
      lsn: undefined,
      sequence: undefined,
      txId: undefined,
      file: 'mysql-bin.000003',
      pos: 4331,
      row: 0,
    })
    const draft = draftOf(mysql)
    expect(draft.attributes['debezium.position']).toBe('{"file":"mysql-bin.000003","pos":4331,"row":0}')
    expect(draft.attributes['debezium.table']).toBe('helpdesk.tickets')
    expect(draftOf(withSource(mysql, { row: 1 })).event_id).not.toBe(draft.event_id)
  })
})

describe('debeziumAdapter: configuration', () => {
  it('uses the table name, the id column and the connector when a table is not configured', () => {
    const draft = draftOf(fixtures.raise, createDebeziumAdapter({ tenant: 'witify' }))
    expect(draft.object).toEqual({ type: 'tickets', id: '9548-B1', id2: null, id3: null, label: null })
    expect(draft.action.name).toBe('tickets.update')
    expect(draft.actor).toEqual(system)
    expect(draft.category).toBe('business')
  })

  it('finds a table by schema.table, then db.table, then table; never by an inherited key', () => {
    const typeFor = (tables: DebeziumAdapterConfig['tables']) =>
      draftOf(raised, createDebeziumAdapter({ tenant: 'witify', tables })).object.type
    expect(typeFor({ tickets: { objectType: 'bare' }, 'public.tickets': { objectType: 'schema' } })).toBe(
      'schema',
    )
    expect(typeFor({ tickets: { objectType: 'bare' }, 'helpdesk.tickets': { objectType: 'db' } })).toBe('db')
    expect(typeFor({ tickets: { objectType: 'bare' } })).toBe('bare')
    expect(
      draftOf(
        withSource(raised, { table: 'constructor' }),
        createDebeziumAdapter({ tenant: 'witify', tables: {} }),
      ).object.type,
    ).toBe('constructor')
  })

  it('takes id, id2 and id3 from a composite primary key, numbers written as text', () => {
    const line = { order_id: 'o-77', line_no: 3, qty: 2 }
    const draft = draftOf(
      { ...raised, op: 'c', before: null, after: line, source: { ...raised.source, table: 'order_lines' } },
      createDebeziumAdapter({
        tenant: 'witify',
        tables: { order_lines: { objectType: 'order-line', primaryKey: ['order_id', 'line_no'] } },
      }),
    )
    expect(draft.object).toEqual({ type: 'order-line', id: 'o-77', id2: '3', id3: null, label: null })
  })

  it('takes the tenant from a tenant column, and the category from the configuration', () => {
    const shared = createDebeziumAdapter({
      tenant: 'unused',
      category: 'platform',
      tables: { tickets: { tenantColumn: 'tenant_id' } },
    })
    const draft = draftOf({ ...raised, after: { ...raised.after, tenant_id: 'acme' } }, shared)
    expect([draft.tenant, draft.category]).toEqual(['acme', 'platform'])
    expect(rejection(shared.toEvents({ body: raised, headers: {} }))).toEqual([
      'ROW_COLUMN_MISSING',
      'after.tenant_id',
      'debezium: after.tenant_id: the tenant column is missing or empty',
    ])
  })

  it('lists sensitive columns and compares them whole', () => {
    const customers = createDebeziumAdapter({
      tenant: 'witify',
      tables: { customers: { sensitiveColumns: ['email', 'contacts'] } },
    })
    const before = { id: 'c-1', email: 'alex@example.com', contacts: { 'alex@example.com': 'primary' } }
    const after = { id: 'c-1', email: 'alex@example.org', contacts: { 'jack@example.com': 'primary' } }
    const draft = draftOf(
      { ...raised, before, after, source: { ...raised.source, table: 'customers' } },
      customers,
    )
    expect(draft.sensitive_fields).toEqual(['email', 'contacts'])
    expect(draft.changes.map((c) => [c.path, c.value_type])).toEqual([
      ['contacts', 'object'],
      ['email', 'string'],
    ])
  })

  it('compares the tenant’s sensitive paths whole too, asking for the tenant of the row', () => {
    const shared = createDebeziumAdapter({
      tenant: 'unused',
      tables: { customers: { tenantColumn: 'tenant_id' } },
    })
    const before = {
      id: 'c-1',
      tenant_id: ' acme ',
      profile: { emails: { 'alex@example.com': 1 }, tier: 'gold' },
    }
    const after = {
      id: 'c-1',
      tenant_id: ' acme ',
      profile: { emails: { 'alex@example.com': 1, 'jack@example.com': 2 }, tier: 'platinum' },
      cards: [{ number: { '4111-1111': 'visa' } }],
    }
    const asked: string[] = []
    const sensitiveFieldsOf = (tenant: string) => {
      asked.push(tenant)
      return tenant === 'acme' ? ['profile.emails', 'cards[*].number'] : []
    }
    const body = { ...raised, before, after, source: { ...raised.source, table: 'customers' } }
    const outcome = shared.toEvents({ body, headers: {}, sensitiveFieldsOf })
    if (outcome.status !== 'events') throw new Error(`expected events, got ${outcome.status}`)
    const [draft] = outcome.drafts
    expect(asked).toEqual(['acme'])
    expect(draft?.changes.map((c) => [c.path, c.value_type])).toEqual([
      ['cards', 'array'],
      ['profile.emails', 'object'],
      ['profile.tier', 'string'],
    ])
    // The table's own list stays the event's: the tenant's paths are added by its redaction.
    expect(draft?.sensitive_fields).toEqual([])
    // Without the policy, the keys would be in the paths.
    expect(draftOf(body, shared).changes.map((c) => c.path)).toContain('profile.emails["jack@example.com"]')
  })

  it('falls back to the connector as actor when the actor column is empty', () => {
    expect(draftOf({ ...raised, after: { ...raised.after, updated_by: null } }).actor).toEqual(system)
    expect(draftOf({ ...raised, after: { ...raised.after, updated_by: 1002 } }).actor).toEqual(user('1002'))
  })

  it.each<[string, DebeziumAdapterConfig, string]>([
    ['a blank tenant', { tenant: ' ' }, 'debezium.tenant: required: a non-empty string'],
    [
      'a blank category',
      { tenant: 'witify', category: '' },
      'debezium.category: expected a non-empty string, e.g. business',
    ],
    [
      'a blank placeholder',
      { tenant: 'witify', unavailableValuePlaceholder: '' },
      'debezium.unavailableValuePlaceholder: expected a non-empty string',
    ],
    [
      'tables that are a list',
      { tenant: 'witify', tables: [] as never },
      'debezium.tables: expected an object keyed by table',
    ],
    [
      'an empty table name',
      { tenant: 'witify', tables: { '': {} } },
      'debezium.tables[""]: a table name must not be empty',
    ],
    [
      'a blank object type',
      { tenant: 'witify', tables: { tickets: { objectType: '' } } },
      'debezium.tables["tickets"].objectType: expected a non-empty string',
    ],
    [
      'no primary key column',
      { tenant: 'witify', tables: { t: { primaryKey: [] } } },
      'debezium.tables["t"].primaryKey: expected 1 to 3 different column names (object.id, id2, id3)',
    ],
    [
      'four primary key columns',
      { tenant: 'witify', tables: { t: { primaryKey: ['a', 'b', 'c', 'd'] } } },
      'debezium.tables["t"].primaryKey: expected 1 to 3 different column names (object.id, id2, id3)',
    ],
    [
      'a repeated primary key column',
      { tenant: 'witify', tables: { t: { primaryKey: ['a', 'a'] } } },
      'debezium.tables["t"].primaryKey: expected 1 to 3 different column names (object.id, id2, id3)',
    ],
    [
      'sensitive columns as text',
      { tenant: 'witify', tables: { t: { sensitiveColumns: 'email' as never } } },
      'debezium.tables["t"].sensitiveColumns: expected a list of column names',
    ],
  ])('refuses a configuration with %s, naming the setting', (_case, config, message) => {
    let error: unknown
    try {
      createDebeziumAdapter(config)
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(AdapterConfigError)
    expect([(error as AdapterConfigError).code, (error as AdapterConfigError).message]).toEqual([
      'CONFIG_INVALID',
      message,
    ])
  })
})

describe('debeziumAdapter: what PostgreSQL leaves out', () => {
  const placeholder = '__debezium_unavailable_value'

  it('keeps an unchanged TOASTed value from the before image instead of the placeholder', () => {
    const before = { ...raised.before, description: 'A long text stored out of line.' }
    const after = { ...raised.after, description: placeholder }
    const draft = draftOf({ ...raised, before, after })
    expect(draft.changes.map((c) => c.path)).toEqual(['priority', 'updated_at', 'updated_by'])
    expect(JSON.parse(draft.after!)).toMatchObject({ description: 'A long text stored out of line.' })
  })

  it('leaves out a column whose value is unavailable on a side with nothing to take it from', () => {
    const draft = draftOf({ ...created, after: { ...created.after, description: placeholder } })
    expect(draft.changes.map((c) => c.path)).not.toContain('description')
    expect(JSON.parse(draft.after!)).not.toHaveProperty('description')
    const custom = createDebeziumAdapter({ tenant: 'witify', unavailableValuePlaceholder: '<toast>' })
    expect(
      JSON.parse(draftOf({ ...created, after: { ...created.after, description: '<toast>' } }, custom).after!),
    ).not.toHaveProperty('description')
  })

  it('records an update without a before image (default replica identity) with no changes', () => {
    const draft = draftOf({ ...raised, before: null })
    expect([draft.changes, draft.before, draft.after]).toEqual([[], null, snapshotJsonText(raised.after)])
  })
})

describe('debeziumAdapter: other operations and messages', () => {
  it('records a truncate as one operation on the table', () => {
    const draft = draftOf({ ...raised, op: 't', before: null, after: null })
    expect(draft.action).toEqual({ kind: 'operation', name: 'ticket.truncate' })
    expect(draft.object).toEqual({
      type: 'table',
      id: 'helpdesk.public.tickets',
      id2: null,
      id3: null,
      label: null,
    })
    expect([draft.actor, draft.changes, draft.before, draft.after]).toEqual([system, [], null, null])
  })

  it.each([
    [
      'a snapshot read',
      { ...created, op: 'r', source: { ...created.source, snapshot: 'true' } },
      'SNAPSHOT_READ',
    ],
    [
      'a logical decoding message',
      { op: 'm', ts_ms: 1, source: created.source, message: { prefix: 'audit', content: 'aGk=' } },
      'LOGICAL_MESSAGE',
    ],
    [
      'a transaction start',
      { status: 'BEGIN', id: '48211:38114712', event_count: null, data_collections: null, ts_ms: 1 },
      'TRANSACTION_MARKER',
    ],
    [
      'a transaction end',
      {
        status: 'END',
        id: '48211:38114712',
        event_count: 1,
        data_collections: [{ data_collection: 'public.tickets', event_count: 1 }],
        ts_ms: 1,
      },
      'TRANSACTION_MARKER',
    ],
    ['a heartbeat', { ts_ms: 1710501420412 }, 'HEARTBEAT'],
  ])('skips %s, with and without the schema wrapper', (_case, payload, reason) => {
    expect(read(payload)).toEqual({ status: 'skipped', reason })
    expect(read(wrap(payload))).toEqual({ status: 'skipped', reason })
  })
})

describe('debeziumAdapter: refusals', () => {
  const noPosition = withSource(raised, { lsn: null, sequence: undefined, txId: undefined })
  it.each<[string, unknown, [string, string, string]]>([
    [
      'a JSON array',
      [raised],
      ['ENVELOPE_INVALID', '(value)', 'debezium: (value): expected a change event object, got an array'],
    ],
    [
      'no op',
      { ...raised, op: undefined },
      ['ENVELOPE_INVALID', 'op', 'debezium: op: required: c, u, d, r, t or m'],
    ],
    [
      'no op, wrapped',
      wrap({ ...raised, op: undefined }),
      ['ENVELOPE_INVALID', 'payload.op', 'debezium: payload.op: required: c, u, d, r, t or m'],
    ],
    [
      'an unknown op',
      { ...raised, op: 'x' },
      ['UNSUPPORTED_OPERATION', 'op', "debezium: op: expected one of: c, u, d, t, r, m; got 'x'"],
    ],
    [
      'an inherited name as op',
      { ...raised, op: 'constructor' },
      ['UNSUPPORTED_OPERATION', 'op', "debezium: op: expected one of: c, u, d, t, r, m; got 'constructor'"],
    ],
    [
      'a numeric op',
      { ...raised, op: 2 },
      ['UNSUPPORTED_OPERATION', 'op', 'debezium: op: expected one of: c, u, d, t, r, m; got a number'],
    ],
    [
      'no source',
      { ...raised, source: undefined },
      ['ENVELOPE_INVALID', 'source', 'debezium: source: expected an object, got missing'],
    ],
    [
      'a blank source name',
      withSource(raised, { name: '' }),
      ['ENVELOPE_INVALID', 'source.name', 'debezium: source.name: must not be empty'],
    ],
    [
      'no table',
      wrap(withSource(raised, { table: undefined })),
      [
        'ENVELOPE_INVALID',
        'payload.source.table',
        'debezium: payload.source.table: expected a non-empty string, got missing',
      ],
    ],
    [
      'a commit time as text',
      withSource(raised, { ts_ms: '1710501420000' }),
      [
        'ENVELOPE_INVALID',
        'source.ts_ms',
        'debezium: source.ts_ms: expected the commit time in epoch milliseconds, got a string',
      ],
    ],
    [
      'no position',
      noPosition,
      [
        'SOURCE_POSITION_MISSING',
        'source',
        'debezium: source: has none of lsn, sequence, txId, file, pos, row, gtid, change_lsn, commit_lsn, event_serial_no, scn, commit_scn, rs_id, ssn, ord, so no stable event id can be derived',
      ],
    ],
    [
      'a create without after',
      wrap({ ...created, after: null }),
      ['ENVELOPE_INVALID', 'payload.after', "debezium: payload.after: required for op 'c': the row image"],
    ],
    [
      'a delete without before',
      { ...deleted, before: null },
      ['ENVELOPE_INVALID', 'before', "debezium: before: required for op 'd': the row image"],
    ],
    [
      'a row image that is text',
      { ...raised, before: '9548-B1' },
      ['ENVELOPE_INVALID', 'before', 'debezium: before: expected a row object or null, got a string'],
    ],
    [
      'no primary key column',
      { ...raised, after: { ...raised.after, id: undefined } },
      [
        'ROW_COLUMN_MISSING',
        'after.id',
        "debezium: after.id: primary key column is missing; configure the table's primaryKey if its key has other columns",
      ],
    ],
    [
      'a null primary key',
      { ...deleted, before: { ...deleted.before, id: null } },
      [
        'ROW_COLUMN_MISSING',
        'before.id',
        "debezium: before.id: primary key column is null; configure the table's primaryKey if its key has other columns",
      ],
    ],
  ])('refuses %s, naming the field', (_case, body, expected) => {
    expect(rejection(read(body))).toEqual(expected)
  })

  it('recognizes neither our JSON form nor CloudEvents', () => {
    expect(adapter.recognizes({ event_id: 'x', action: { kind: 'update' }, source: { service: 'a' } })).toBe(
      false,
    )
    expect(adapter.recognizes({ specversion: '1.0', source: 'x', data: {} })).toBe(false)
    expect(adapter.recognizes({ ts_ms: 1 })).toBe(false)
    expect(adapter.declaredBy({ 'content-type': 'application/json' })).toBe(false)
  })
})
