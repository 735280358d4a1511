import { describe, expect, it } from 'vitest'
import type { StackState } from '@audit-pipeline/stack-state'
import { resolveTrailStorage } from './trailStorage.js'

const stack = (clickhouse: StackState['clickhouse']): StackState => ({
  stateDir: '/repo/.stack',
  startedAt: '2026-03-01T00:00:00.000Z',
  kafka: { brokers: ['127.0.0.1:9092'], topics: [] },
  schemaRegistry: { url: 'http://127.0.0.1:8081' },
  clickhouse,
})

describe('resolveTrailStorage', () => {
  it('takes a server from CLICKHOUSE_URL, with its credentials and database', () => {
    expect(
      resolveTrailStorage(
        {
          CLICKHOUSE_URL: 'http://ch:8123',
          CLICKHOUSE_USERNAME: 'auditor',
          CLICKHOUSE_PASSWORD: 's',
          CLICKHOUSE_DATABASE: 'trail',
        },
        undefined,
        '/repo/.stack',
      ),
    ).toEqual({
      config: { kind: 'http', url: 'http://ch:8123', database: 'trail', username: 'auditor', password: 's' },
      database: 'trail',
      origin: 'CLICKHOUSE_URL (http://ch:8123)',
    })
  })

  it('takes an embedded data folder from CLICKHOUSE_EMBEDDED_PATH, else the local stack’s', () => {
    expect(
      resolveTrailStorage({ CLICKHOUSE_EMBEDDED_PATH: '.stack/clickhouse' }, undefined, '/repo/.stack'),
    ).toEqual({
      config: { kind: 'embedded', dataPath: '.stack/clickhouse', database: 'audit' },
      database: 'audit',
      origin: 'CLICKHOUSE_EMBEDDED_PATH (.stack/clickhouse)',
    })
    const embedded = stack({ kind: 'embedded', dataPath: '/repo/.stack/clickhouse', database: 'audit' })
    expect(resolveTrailStorage({}, embedded, '/repo/.stack').config).toEqual({
      kind: 'embedded',
      dataPath: '/repo/.stack/clickhouse',
      database: 'audit',
    })
    expect(resolveTrailStorage({ CLICKHOUSE_DATABASE: 'other' }, embedded, '/repo/.stack').database).toBe(
      'other',
    )
    const server = stack({ kind: 'http', url: 'http://127.0.0.1:8123', database: 'audit' })
    expect(resolveTrailStorage({}, server, '/repo/.stack').config).toEqual({
      kind: 'http',
      url: 'http://127.0.0.1:8123',
      database: 'audit',
    })
  })

  it('says what to set when there is nothing to read', () => {
    expect(() => resolveTrailStorage({}, undefined, '/repo/.stack')).toThrow(
      'no ClickHouse to read: set CLICKHOUSE_URL for a server, or CLICKHOUSE_EMBEDDED_PATH (and CLICKHOUSE_DATABASE) for an embedded data folder; no local stack has run in /repo/.stack',
    )
    expect(() => resolveTrailStorage({ CLICKHOUSE_URL: 'ftp://x' }, undefined, '/repo/.stack')).toThrow(
      'CLICKHOUSE_URL',
    )
  })
})
