import { describe, expect, it } from 'vitest'
import { secretSha256 } from '@audit-pipeline/api-keys'
import { ConfigError } from '@audit-pipeline/config'
import { loadQueryApiConfig } from './config.js'

const keysFile = JSON.stringify({
  keys: [{ id: 'ops', secret_sha256: secretSha256('s').toString('hex'), role: 'auditor' }],
})
const base = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8080/apis/ccompat/v7',
  CLICKHOUSE_EMBEDDED_PATH: '.stack/clickhouse',
  QUERY_API_KEYS_FILE: 'keys.json',
}
const files = (text: string) => (path: string) => {
  if (path !== 'keys.json') throw new Error(`ENOENT: no such file ${path}`)
  return text
}

describe('loadQueryApiConfig', () => {
  it('reads the settings with their defaults, and the keys', () => {
    const config = loadQueryApiConfig(base, files(keysFile))
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8480,
      keysFile: 'keys.json',
      limits: {
        maxPageRows: 1000,
        maxCountGroups: 10000,
        maxExportRows: 1000000,
        caps: {
          maxMemoryBytes: 268435456,
          maxRowsToRead: 100000000,
          maxResultBytes: 67108864,
          maxExecutionSeconds: 10,
        },
        maxConcurrentQueries: 4,
        maxQueuedQueries: 64,
        requestsPerMinute: 600,
        authFailuresPerMinute: 30,
        sql: { maxResultRows: 10000 },
      },
      clickhouse: { kind: 'embedded', dataPath: '.stack/clickhouse', database: 'audit' },
      accessAuditTopic: 'audit.access',
      accessAuditTenant: 'audit-pipeline',
      ops: { port: 9468 },
    })
    expect(config.keys.map((key) => key.id)).toEqual(['ops'])
  })

  it('lists every bad setting, the keys file among them', () => {
    const load = () =>
      loadQueryApiConfig(
        { QUERY_API_KEYS_FILE: 'keys.json', QUERY_API_PORT: 'http', QUERY_API_MAX_ROWS: '5' },
        files('{"keys": []}'),
      )
    expect(load).toThrow(ConfigError)
    const message = (() => {
      try {
        load()
        return ''
      } catch (error) {
        return (error as Error).message
      }
    })()
    expect(message).toContain('QUERY_API_MAX_ROWS: unknown setting')
    expect(message).toContain('QUERY_API_PORT: expected a port number')
    expect(message).toContain('KAFKA_BROKERS: required')
    expect(message).toContain('CLICKHOUSE_URL: required')
    expect(message).toContain('QUERY_API_KEYS_FILE: keys.json: keys: list at least one key')
    expect(() =>
      loadQueryApiConfig({ ...base, QUERY_API_KEYS_FILE: 'missing.json' }, files(keysFile)),
    ).toThrow('QUERY_API_KEYS_FILE: cannot read missing.json')
  })
})
