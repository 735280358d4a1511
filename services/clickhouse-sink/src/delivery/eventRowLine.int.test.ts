import fc from 'fast-check'
import { describe, expect, it, onTestFinished } from 'vitest'
import { eventColumns, eventRow, type AuditEventRow } from '@audit-pipeline/clickhouse-schema'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { ClickHouseError } from '@audit-pipeline/storage'
import {
  anyAuditEvent,
  mapStrings,
  sampleEvent,
} from '../../../../packages/integrity/src/testSupport/auditEvents.js'
import { openTestStorage } from '../../../../test/support/testStorage.js'
import { eventRowLine } from './eventRowLine.js'
import { eventRowInserter, rowInserter } from './insertRows.js'

/** Whether any string of `value`, keys included, holds half a surrogate pair. */
const hasLoneSurrogate = (value: unknown): boolean =>
  typeof value === 'string'
    ? !value.isWellFormed()
    : Array.isArray(value)
      ? value.some(hasLoneSurrogate)
      : value !== null && typeof value === 'object'
        ? Object.entries(value).some(([key, v]) => !key.isWellFormed() || hasLoneSurrogate(v))
        : false

/** DateTime64(3)'s range: 1900-01-01 to 2299-12-31, in ms. */
const dateTime64Ms = fc.oneof(
  fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2299, 11, 31, 23, 59, 59, 999) }),
  fc.constantFrom(
    0,
    Date.UTC(1900, 0, 1),
    Date.UTC(2299, 11, 31, 23, 59, 59, 999),
    Date.UTC(2026, 0, 1, 0, 0, 0, 1),
  ),
)

/** Any event, with hostile text everywhere, whose id is a UUID and whose times DateTime64 holds. */
const anyStorableEvent = fc
  .tuple(anyAuditEvent, fc.uuid(), dateTime64Ms, dateTime64Ms)
  .map(([event, id, occurredAt, recordedAt]) => ({
    ...event,
    event_id: id,
    occurred_at: occurredAt,
    recorded_at: recordedAt,
  }))

/** What people write: tabs, line breaks, backslashes, quotes, escapes held as text, non-ASCII. */
const writtenByPeople = (index: number): AuditEvent => {
  const event = sampleEvent(index)
  return {
    ...event,
    event_id: `0190a4c2-7b1e-7c3d-8e4f-${index.toString(16).padStart(12, '0')}`,
    actor: {
      ...event.actor,
      display_name: 'Zoë "Z" Müller\t李雷 😀',
      roles: ["o'brien", 'a\\b', '\\N', 'NULL', ''],
      user_agent: '\\N',
    },
    on_behalf_of: { ...event.actor, id: "support-'1'", roles: ['[x]', '{y}', ',', '\r\n'] },
    outcome: { status: 'failure', reason: 'timeout\n  at db.query (db.js:12)\tretry 3/3\r\0end' },
    object: { ...event.object, label: 'a pair \ud83d\ude00, U+FFFD \ufffd, BOM \ufeff', id2: '' },
    changes: [
      { path: 'a\tb', old_value: null, new_value: '"line\\u2028two\u2028 😀"', value_type: 'string' },
      { path: "it's", old_value: '\\', new_value: null, value_type: 'null' },
    ],
    before: '{"amount":100,"note":"a\\tb"}',
    after: '\\N',
    attributes: { "k'ey": "v'al", '': 'empty key', 'tab\tkey': 'new\nline', '\\': '\\\\', NULL: 'null' },
    sensitive_fields: ['actor.ip', "quote'd", '\u0000'],
  }
}

/** The rows of `table` as ClickHouse reads them back, one JSON text per row, in offset order. */
async function storedRows(storage: Awaited<ReturnType<typeof openTestStorage>>['storage'], table: string) {
  const result = await storage.client.query({
    query: `SELECT * FROM ${table} ORDER BY kafka_offset`,
    format: 'JSONEachRow',
  })
  return (await result.text()).split('\n').filter((line) => line !== '')
}

describe('event rows as JSONCompactEachRow lines, in ClickHouse', () => {
  it('stores every value as the JSONEachRow object did, and as the event holds it; refuses what that refused', async () => {
    const opened = await openTestStorage()
    onTestFinished(() => opened.close())
    const { storage, database } = opened
    // `audit_events`' columns in plain tables: no views, no TTL, no merges to collapse rows by event_id.
    const columns = eventColumns.map(([name, type]) => `${name} ${type}`).join(', ')
    const compact = `${database}.compact_rows`
    const reference = `${database}.json_rows`
    for (const table of [compact, reference]) {
      await storage.client.command({
        query: `CREATE TABLE ${table} (${columns}) ENGINE = MergeTree ORDER BY tuple()`,
      })
    }
    const all = [
      ...Array.from({ length: 4 }, (_, i) => writtenByPeople(i)),
      ...fc.sample(anyStorableEvent, { numRuns: 600, seed: 18 }),
    ]
    // What the sink decodes from Avro (UTF-8): every string well-formed, a lone surrogate U+FFFD.
    const wellFormed = all.map((event) => mapStrings(event, (text) => text.toWellFormed()))
    const loneSurrogates = all.filter(hasLoneSurrogate).slice(0, 40)
    expect(loneSurrogates).toHaveLength(40)
    const rowOf = (event: AuditEvent, i: number): AuditEventRow =>
      eventRow(event, { topic: 'audit.normalized', partition: i % 7, offset: String(2n ** 53n + BigInt(i)) })
    const insertCompact = eventRowInserter(storage, compact)
    const insertReference = rowInserter(storage, reference)
    const compactLines = (rows: readonly AuditEventRow[]) =>
      rows.map((row) => ({ line: Buffer.from(eventRowLine(row)) }))
    // The path before: JSONEachRow objects.
    const referenceLines = (rows: readonly AuditEventRow[]) =>
      rows.map((row) => ({ line: `${JSON.stringify(row)}\n` }))

    const rows = wellFormed.map(rowOf)
    await insertCompact(compactLines(rows), 'compact')
    await insertReference(referenceLines(rows), 'reference')
    const fromCompact = await storedRows(storage, compact)
    expect(fromCompact).toHaveLength(rows.length)
    expect(fromCompact).toEqual(await storedRows(storage, reference))
    // And as the event holds them, every column (DateTime64 as its text, the offset past 2^53).
    expect(fromCompact.map((line) => JSON.parse(line) as unknown)).toEqual(rows)

    // A lone surrogate (which UTF-8 Avro cannot carry, so the sink never decodes one) is refused
    // by both, for the same reason: such a row would be dead-lettered either way, never altered.
    for (const [i, event] of loneSurrogates.entries()) {
      const row = [rowOf(event, rows.length + i)]
      const compactError = await insertCompact(compactLines(row), `compact-${i}`).catch((e: unknown) => e)
      const referenceError = await insertReference(referenceLines(row), `reference-${i}`).catch(
        (e: unknown) => e,
      )
      expect(compactError).toBeInstanceOf(ClickHouseError)
      expect((compactError as ClickHouseError).type).toBe('CANNOT_PARSE_ESCAPE_SEQUENCE')
      expect((referenceError as ClickHouseError).type).toBe('CANNOT_PARSE_ESCAPE_SEQUENCE')
    }
    expect(await storedRows(storage, compact)).toHaveLength(rows.length)
  })
})
