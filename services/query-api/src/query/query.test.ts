import { describe, expect, it } from 'vitest'
import type { AccessScope } from '../access/accessScope.js'
import { countQuery, countSourceFor, type CountRequest } from './countQueries.js'
import { decodeCursor, encodeCursor } from './cursor.js'
import { eventConditions, storedValueCandidates } from './eventFilters.js'
import { eventPageQuery, recordKeptLatestQuery, recordPageQuery } from './eventQueries.js'
import { parseIsoTime } from './time.js'

const acme: AccessScope = { keyId: 'k', role: 'analyst', tenants: ['acme'] }
const everyone: AccessScope = { keyId: 'k', role: 'auditor', tenants: 'all' }

describe('cursor', () => {
  it('round-trips, and refuses anything it did not write', () => {
    const cursor = { occurredAt: '2024-03-15 11:03:00.000', eventId: '00000000-0000-4000-8000-000000000203' }
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor)
    for (const text of [
      '',
      'abc',
      Buffer.from('["x","y"]').toString('base64url'),
      Buffer.from("['2024-03-15 11:03:00.000', '1' OR 1=1]").toString('base64url'),
    ]) {
      expect(decodeCursor(text), text).toBeUndefined()
    }
    expect(
      decodeCursor(
        Buffer.from(JSON.stringify(["2024-03-15 11:03:00.000' OR 1=1", cursor.eventId])).toString(
          'base64url',
        ),
      ),
    ).toBeUndefined()
  })
})

describe('eventPageQuery', () => {
  it('puts every value in a parameter, the key tenants first, keyset after the cursor', () => {
    const { query, params } = eventPageQuery(
      {
        filters: { tenant: "acme' OR 1=1 --", actor: 'u-7', since: new Date('2024-03-15T00:00:00Z') },
        order: 'desc',
        limit: 50,
        cursor: { occurredAt: '2024-03-15 11:03:00.000', eventId: '00000000-0000-4000-8000-000000000203' },
      },
      acme,
    )
    expect(query).toContain(
      "WHERE tenant IN {scope_tenants:Array(String)} AND tenant = {f_tenant:String} AND actor_id = {f_actor_id:String} AND occurred_at >= {f_since:DateTime64(3, 'UTC')} AND (occurred_at, event_id) < ({c_occurred_at:DateTime64(3, 'UTC')}, {c_event_id:UUID})",
    )
    expect(query).toContain('FROM audit_events_deduplicated')
    expect(query).toContain('ORDER BY occurred_at DESC, event_id DESC\nLIMIT {page_rows:UInt32}')
    expect(query).not.toContain('acme')
    expect(query).not.toContain('OFFSET')
    expect(params).toEqual({
      scope_tenants: ['acme'],
      f_tenant: "acme' OR 1=1 --",
      f_actor_id: 'u-7',
      f_since: '2024-03-15 00:00:00.000',
      c_occurred_at: '2024-03-15 11:03:00.000',
      c_event_id: '00000000-0000-4000-8000-000000000203',
      page_rows: 51,
    })
  })

  it('adds no tenant condition for a key that reads every tenant', () => {
    const { query } = eventPageQuery({ filters: {}, order: 'asc', limit: 10 }, everyone)
    expect(query).not.toContain('WHERE')
    expect(query).toContain('ORDER BY occurred_at ASC, event_id ASC')
  })
})

describe('recordPageQuery', () => {
  const record = { objectType: 'contract', objectId: 'K-1', until: new Date('2024-03-15T12:00:00Z') }

  it('reads the trail and audit_record_latest FINAL with the same conditions, one keyset over both', () => {
    const { query, params } = recordPageQuery(
      {
        filters: record,
        order: 'asc',
        limit: 10,
        cursor: { occurredAt: '2024-03-15 11:03:00.000', eventId: '00000000-0000-4000-8000-000000000203' },
      },
      acme,
    )
    const where =
      "WHERE tenant IN {scope_tenants:Array(String)} AND object_type = {f_object_type:String} AND object_id = {f_object_id:String} AND occurred_at < {f_until:DateTime64(3, 'UTC')} AND (occurred_at, event_id) > ({c_occurred_at:DateTime64(3, 'UTC')}, {c_event_id:UUID})"
    const order = 'ORDER BY occurred_at ASC, event_id ASC\nLIMIT {page_rows:UInt32}'
    expect(query.split(where)).toHaveLength(3)
    expect(query).toContain(`FROM audit_events_deduplicated\n${where}\n${order}\nUNION ALL\n`)
    expect(query).toContain(`FROM audit_record_latest FINAL\n${where}\n${order}\n)\n${order}`)
    expect(query).not.toContain('acme')
    expect(params).toEqual({
      scope_tenants: ['acme'],
      f_object_type: 'contract',
      f_object_id: 'K-1',
      f_until: '2024-03-15 12:00:00.000',
      c_occurred_at: '2024-03-15 11:03:00.000',
      c_event_id: '00000000-0000-4000-8000-000000000203',
      page_rows: 11,
    })
  })

  it("asks whether the record has a row in audit_record_latest, within the key's tenants, at any time", () => {
    const { query, params } = recordKeptLatestQuery({ ...record, tenant: 'acme', objectId2: 'x' }, acme)
    expect(query).toBe(`SELECT 1 AS kept
FROM audit_record_latest
WHERE tenant IN {scope_tenants:Array(String)} AND tenant = {f_tenant:String} AND object_type = {f_object_type:String} AND object_id = {f_object_id:String} AND object_id2 = {f_object_id2:String}
LIMIT 1`)
    expect(params).toEqual({
      scope_tenants: ['acme'],
      f_tenant: 'acme',
      f_object_type: 'contract',
      f_object_id: 'K-1',
      f_object_id2: 'x',
    })
  })
})

describe('counts', () => {
  const request = (overrides: Partial<CountRequest>): CountRequest => ({
    filters: {},
    by: ['action'],
    bucket: 'hour',
    exact: false,
    maxGroups: 100,
    ...overrides,
  })

  it('reads the hourly table only when it holds the dimensions and filters, on whole hours', () => {
    expect(countSourceFor(request({}))).toBe('audit_actions_hourly')
    expect(countSourceFor(request({ by: ['tenant', 'category', 'outcome', 'action_kind'] }))).toBe(
      'audit_actions_hourly',
    )
    expect(countSourceFor(request({ filters: { since: new Date('2024-03-15T11:00:00Z') } }))).toBe(
      'audit_actions_hourly',
    )
    expect(countSourceFor(request({ filters: { since: new Date('2024-03-15T11:30:00Z') } }))).toBe(
      'audit_events_deduplicated',
    )
    expect(countSourceFor(request({ by: ['actor'] }))).toBe('audit_events_deduplicated')
    expect(countSourceFor(request({ filters: { objectType: 'ticket' } }))).toBe('audit_events_deduplicated')
    expect(countSourceFor(request({ exact: true }))).toBe('audit_events_deduplicated')
  })

  it('groups by whitelisted columns only, values as parameters', () => {
    const hourly = countQuery(
      request({
        by: ['action', 'outcome'],
        bucket: 'day',
        filters: { until: new Date('2024-03-16T00:00:00Z') },
      }),
      acme,
    )
    expect(hourly.query)
      .toBe(`SELECT toStartOfDay(hour) AS bucket, action_name AS action, outcome_status AS outcome, sum(events) AS events
FROM audit_actions_hourly
WHERE tenant IN {scope_tenants:Array(String)} AND hour < {f_until:DateTime('UTC')}
GROUP BY bucket, action, outcome
ORDER BY bucket, action, outcome
LIMIT {max_groups:UInt32}`)
    expect(hourly.params).toEqual({
      scope_tenants: ['acme'],
      f_until: '2024-03-16 00:00:00',
      max_groups: 101,
    })
    const events = countQuery(request({ by: ['actor'], bucket: 'none' }), everyone)
    expect(events.query).toBe(`SELECT actor_id AS actor, count() AS events
FROM audit_events_deduplicated

GROUP BY actor
ORDER BY actor
LIMIT {max_groups:UInt32}`)
  })
})

describe('parseIsoTime', () => {
  it('reads dates and times with a zone, nothing else', () => {
    expect(parseIsoTime('2024-03-15')).toEqual(new Date('2024-03-15T00:00:00Z'))
    expect(parseIsoTime('2024-03-15T12:00:00+01:00')).toEqual(new Date('2024-03-15T11:00:00Z'))
    for (const text of ['2024-03-15T12:00:00', '2024-02-30', 'yesterday', "2024-03-15' OR 1=1"]) {
      expect(parseIsoTime(text), text).toBeUndefined()
    }
  })
})

describe('searching by a changed field', () => {
  it('matches a value as the JSON text it is stored as: a string, or the JSON it reads as', () => {
    expect(storedValueCandidates('Urgent')).toEqual(['"Urgent"'])
    expect(storedValueCandidates('3')).toEqual(['"3"', '3'])
    expect(storedValueCandidates('"Urgent"')).toEqual(['"\\"Urgent\\""', '"Urgent"'])
    expect(storedValueCandidates('{ "a": 1 }')).toEqual(['"{ \\"a\\": 1 }"', '{"a":1}'])
  })

  it('keeps an analyst from searching by values of events that mark anything sensitive', () => {
    const filters = { changed: 'email', changedTo: 'rita@new.example' }
    const analyst = eventConditions(filters, acme)
    expect(analyst.conditions).toContain('empty(sensitive_fields)')
    expect(analyst.params).toMatchObject({ f_changed: 'email', f_changed_to: ['"rita@new.example"'] })
    expect(eventConditions(filters, everyone).conditions).not.toContain('empty(sensitive_fields)')
    // The field alone reveals no value: an analyst may search by it.
    expect(eventConditions({ changed: 'email' }, acme).conditions).not.toContain('empty(sensitive_fields)')
  })
})
