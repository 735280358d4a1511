import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { payloadBytes, rawInsertOf } from './embeddedInsert.js'
import { sessionSettings } from './sessionSettings.js'

describe('rawInsertOf', () => {
  it('reads the statement @clickhouse/client writes, qualified with the database', () => {
    expect(rawInsertOf('INSERT INTO audit_events FORMAT JSONEachRow', 'audit', undefined)).toEqual({
      table: 'audit.audit_events',
      format: 'JSONEachRow',
      settings: { ...sessionSettings },
    })
  })

  it('keeps a column list and a table already qualified', () => {
    expect(rawInsertOf('INSERT INTO other.t (a, b_2) FORMAT CSV', 'audit', undefined)).toMatchObject({
      table: 'other.t',
      columns: ['a', 'b_2'],
      format: 'CSV',
    })
  })

  it("puts the statement's settings over the pinned ones and leaves out HTTP-only ones", () => {
    const raw = rawInsertOf('INSERT INTO t FORMAT JSONEachRow', undefined, {
      insert_deduplication_token: 'p0:1-9',
      date_time_input_format: 'basic',
      wait_end_of_query: 1,
      async_insert: undefined,
    })
    expect(raw?.table).toBe('t')
    expect(raw?.settings).toEqual({
      ...sessionSettings,
      insert_deduplication_token: 'p0:1-9',
      date_time_input_format: 'basic',
    })
  })

  it.each([
    ['a quoted table name', 'INSERT INTO `my table` FORMAT JSONEachRow', 'db', undefined],
    ['a column list with EXCEPT', 'INSERT INTO t (* EXCEPT (a)) FORMAT JSONEachRow', 'db', undefined],
    ['a binary format', 'INSERT INTO t FORMAT RowBinary', 'db', undefined],
    ['a database that is no plain identifier', 'INSERT INTO t FORMAT JSONEachRow', 'audit-test', undefined],
    ['another statement', 'INSERT INTO t SELECT 1', 'db', undefined],
    ['a setting that is no scalar', 'INSERT INTO t FORMAT JSONEachRow', 'db', { x: { a: 1 } }],
  ])('takes the SQL-text path for %s', (_what, query, database, settings) => {
    expect(rawInsertOf(query, database, settings)).toBeUndefined()
  })
})

describe('payloadBytes', () => {
  it('joins a stream of string and Buffer chunks', async () => {
    const stream = Readable.from(['{"a":1}\n', Buffer.from('{"a":2}\n')], { objectMode: false })
    expect((await payloadBytes(stream)).toString()).toBe('{"a":1}\n{"a":2}\n')
  })

  it('encodes a string as UTF-8', async () => {
    expect(await payloadBytes('é')).toEqual(Buffer.from([0xc3, 0xa9]))
  })
})
