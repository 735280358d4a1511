import { Readable } from 'node:stream'
import { ClickHouseError } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { createEmbeddedConnection, type Connection } from './embeddedConnection.js'
import { statementPrelude } from './embeddedStatement.js'

type Call = { connection: number; method: string; query: string; query_params?: Record<string, unknown> }

/** Connections that record what they are asked, numbered in the order they were opened. */
function fakeChdb(failWith?: Error) {
  const calls: Call[] = []
  const closed: number[] = []
  let opened = 0
  const open = (): Connection => {
    const id = opened++
    const result = { query_id: 'q', response_headers: {}, http_status_code: 200 }
    const record = async (
      method: string,
      params: { query: string; query_params?: Record<string, unknown> },
    ) => {
      calls.push({ connection: id, method, query: params.query, query_params: params.query_params })
      if (failWith) throw failWith
      return Promise.resolve(result)
    }
    return {
      ping: () => Promise.resolve({ success: true }),
      query: async (p) => ({ ...(await record('query', p)), stream: Readable.from([]) }),
      exec: async (p) => ({ ...(await record('exec', p)), stream: Readable.from([]), summary: undefined }),
      insert: (p) => record('insert', p),
      command: (p) => record('command', p),
      close: () => {
        closed.push(id)
        return Promise.resolve()
      },
    }
  }
  return { open, calls, closed }
}

describe('createEmbeddedConnection', () => {
  const prelude = statementPrelude('audit', undefined)

  it('runs statements without settings on the shared connection, after the prelude', async () => {
    const chdb = fakeChdb()
    const connection = createEmbeddedConnection(chdb.open, 'audit')
    await connection.query({ query: 'SELECT {t:DateTime64(3)}', query_params: { t: new Date(1_500) } })
    await connection.command({ query: 'CREATE TABLE t (x UInt8) ENGINE = Memory' })
    expect(chdb.calls).toEqual([
      {
        connection: 0,
        method: 'query',
        query: `${prelude}SELECT {t:DateTime64(3)}`,
        query_params: { t: '1.500' },
      },
      { connection: 0, method: 'command', query: `${prelude}CREATE TABLE t (x UInt8) ENGINE = Memory` },
    ])
    expect(chdb.closed).toEqual([])
  })

  it('gives a statement with settings a connection of its own, closed once it is done', async () => {
    const chdb = fakeChdb()
    const connection = createEmbeddedConnection(chdb.open, 'audit')
    await connection.insert({
      query: 'INSERT INTO t FORMAT JSONEachRow',
      values: '{"x":1}\n',
      clickhouse_settings: { insert_deduplication_token: 'topic-0-1-2' },
    })
    expect(chdb.calls.map(({ connection, method }) => ({ connection, method }))).toEqual([
      { connection: 1, method: 'insert' },
    ])
    expect(chdb.closed).toEqual([1])
  })

  it('creates a database without switching to the configured one first', async () => {
    const chdb = fakeChdb()
    await createEmbeddedConnection(chdb.open, 'audit').createDatabase('audit')
    expect(chdb.calls).toEqual([
      { connection: 0, method: 'command', query: 'CREATE DATABASE IF NOT EXISTS `audit`' },
    ])
  })

  it('reports ClickHouse errors with the client’s ClickHouseError, also from an own connection', async () => {
    const foreign = Object.assign(new Error('Table audit.t does not exist.'), {
      code: '60',
      type: 'UNKNOWN_TABLE',
    })
    const chdb = fakeChdb(foreign)
    const connection = createEmbeddedConnection(chdb.open, 'audit')
    const failure = connection.insert({
      query: 'INSERT INTO t FORMAT JSONEachRow',
      values: '{"x":1}\n',
      clickhouse_settings: { async_insert: 0 },
    })
    await expect(failure).rejects.toBeInstanceOf(ClickHouseError)
    await expect(failure).rejects.toMatchObject({ code: '60', cause: foreign })
    expect(chdb.closed).toEqual([1])
  })
})
