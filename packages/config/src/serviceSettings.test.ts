import { describe, expect, it } from 'vitest'
import type { ConfigProblem } from './configError.js'
import { serviceConnections, unknownSettings } from './serviceSettings.js'

describe('unknownSettings', () => {
  it('names each set, unknown variable with the prefix, and what the service reads', () => {
    const known = new Set(['SINK_GROUP_ID', 'SINK_MIGRATE', 'OPS_PORT'])
    expect(
      unknownSettings(
        { SINK_GRUOP_ID: 'g', SINK_MIGRATE: 'true', SINK_EMPTY: ' ', OTHER: 'x' },
        'SINK_',
        known,
        'sink',
      ),
    ).toEqual([
      { setting: 'SINK_GRUOP_ID', message: 'unknown setting; the sink reads: SINK_GROUP_ID, SINK_MIGRATE' },
    ])
  })
})

describe('serviceConnections', () => {
  const base = { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' }

  it('resolves the broker list, the registry and, when needed, ClickHouse', () => {
    const problems: ConfigProblem[] = []
    const connections = serviceConnections(
      { ...base, CLICKHOUSE_EMBEDDED_PATH: './data' },
      { clickhouse: true },
      problems,
    )
    expect(problems).toEqual([])
    expect(connections?.kafka.brokers).toEqual(['127.0.0.1:9092'])
    expect(connections?.schemaRegistry.url).toBe('http://127.0.0.1:8081')
    expect(connections?.clickhouse).toMatchObject({ kind: 'embedded', dataPath: './data' })
    expect(serviceConnections(base, { clickhouse: false }, [])?.clickhouse).toBeUndefined()
  })

  it('adds a problem for each missing connection and returns nothing', () => {
    const problems: ConfigProblem[] = [{ setting: 'EARLIER', message: 'kept' }]
    expect(serviceConnections({}, { clickhouse: true }, problems)).toBeUndefined()
    expect(problems.map((p) => p.setting)).toEqual([
      'EARLIER',
      'KAFKA_BROKERS',
      'SCHEMA_REGISTRY_URL',
      'CLICKHOUSE_URL',
    ])
  })

  it('reports a malformed connection setting with its own message', () => {
    const problems: ConfigProblem[] = []
    expect(
      serviceConnections({ ...base, KAFKA_BROKERS: 'not a broker' }, { clickhouse: false }, problems),
    ).toBeUndefined()
    expect(problems).toEqual([
      {
        setting: 'KAFKA_BROKERS',
        message: expect.stringMatching(/^expected a comma-separated list of host:port/) as string,
      },
    ])
  })
})
