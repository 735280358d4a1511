import { describe, expect, it } from 'vitest'
import { secretSha256 } from '@audit-pipeline/api-keys'
import { ConfigError } from '@audit-pipeline/config'
import { defaultAnalystVisibility } from './access/analystVisibility.js'
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

  it('reads the field key store: FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE, both or neither', () => {
    const kek = Buffer.alloc(32, 7)
    const withKek = (text: string) => (path: string) => (path === 'kek' ? text : files(keysFile)(path))
    const isFolder = (path: string) => path === '/keys'
    const env = { ...base, FIELD_KEYS_DIR: '/keys', FIELD_KEYS_KEK_FILE: 'kek' }
    expect(loadQueryApiConfig(base, files(keysFile), isFolder).fieldKeys).toBeUndefined()
    expect(loadQueryApiConfig(env, withKek(`${kek.toString('base64')}\n`), isFolder).fieldKeys).toEqual({
      directory: '/keys',
      keyEncryptionKeyFile: 'kek',
      keyEncryptionKey: kek,
    })
    const problems = (settings: Record<string, string>, kekText = kek.toString('base64')) => {
      try {
        loadQueryApiConfig({ ...base, ...settings }, withKek(kekText), isFolder)
        return ''
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
    }
    expect(problems({ FIELD_KEYS_DIR: '/keys' })).toContain(
      'FIELD_KEYS_KEK_FILE: required with FIELD_KEYS_DIR',
    )
    expect(problems({ FIELD_KEYS_KEK_FILE: 'kek' })).toContain(
      'FIELD_KEYS_DIR: required with FIELD_KEYS_KEK_FILE',
    )
    expect(problems({ FIELD_KEYS_DIR: '/nowhere', FIELD_KEYS_KEK_FILE: 'kek' })).toContain(
      'FIELD_KEYS_DIR: /nowhere is not a folder',
    )
    expect(problems({ FIELD_KEYS_DIR: '/keys', FIELD_KEYS_KEK_FILE: 'missing' })).toContain(
      'FIELD_KEYS_KEK_FILE: cannot read missing',
    )
    const short = problems({ FIELD_KEYS_DIR: '/keys', FIELD_KEYS_KEK_FILE: 'kek' }, 'c2hvcnQ=')
    expect(short).toContain('FIELD_KEYS_KEK_FILE: kek: expected the base64 of 32 bytes')
    // The file is a secret: its content is never in the message.
    expect(short).not.toContain('c2hvcnQ=')
    // With the other settings' problems, in one report.
    expect(problems({ FIELD_KEYS_DIR: '/keys', QUERY_API_PORT: 'http' })).toMatch(
      /QUERY_API_PORT: expected a port number[\s\S]*FIELD_KEYS_KEK_FILE: required/,
    )
  })

  it('reads the analyst visibility file, YAML or JSON; without it IP and session id are hidden', () => {
    const withVisibility = (name: string, text: string) => (path: string) =>
      path === name ? text : files(keysFile)(path)
    const unset = loadQueryApiConfig(base, files(keysFile))
    expect(unset.analystVisibility).toEqual(defaultAnalystVisibility)
    expect(unset.analystVisibilityFile).toBeUndefined()

    const yaml = loadQueryApiConfig(
      { ...base, QUERY_API_ANALYST_VISIBILITY_FILE: 'visibility.yaml' },
      withVisibility('visibility.yaml', 'tenants:\n  acme: { ip: visible }\n'),
    )
    expect(yaml.analystVisibilityFile).toBe('visibility.yaml')
    expect(yaml.analystVisibility.tenants.get('acme')).toEqual({
      ip: 'visible',
      session_id: 'hidden',
      user_agent: 'visible',
      attributes: 'visible',
    })
    const json = loadQueryApiConfig(
      { ...base, QUERY_API_ANALYST_VISIBILITY_FILE: 'visibility.json' },
      withVisibility('visibility.json', '{"default": {"attributes": "hidden"}}'),
    )
    expect(json.analystVisibility.default.attributes).toBe('hidden')
  })

  it('reports a bad analyst visibility file naming the setting, the file, the line and the entry', () => {
    const message = (env: Record<string, string>, text: string) => {
      try {
        loadQueryApiConfig({ ...base, ...env }, (path) =>
          path === 'visibility.yaml' ? text : files(keysFile)(path),
        )
        return ''
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError)
        return (error as Error).message
      }
    }
    const env = { QUERY_API_ANALYST_VISIBILITY_FILE: 'visibility.yaml' }
    const bad = message(env, 'tenants:\n  acme: { ip: shown, email: hidden }\n')
    expect(bad).toContain(
      'QUERY_API_ANALYST_VISIBILITY_FILE: visibility.yaml:2:15: tenants.acme.ip: expected one of: visible, hidden',
    )
    expect(bad).toContain(
      'QUERY_API_ANALYST_VISIBILITY_FILE: visibility.yaml:2:22: tenants.acme.email: unknown key; expected one of: ip, session_id, user_agent, attributes',
    )
    expect(message({ QUERY_API_ANALYST_VISIBILITY_FILE: 'missing.yaml' }, '')).toContain(
      'QUERY_API_ANALYST_VISIBILITY_FILE: cannot read missing.yaml',
    )
    // With the other settings' problems, in one report.
    expect(message({ ...env, QUERY_API_PORT: 'http' }, 'default: { ip: maybe }')).toMatch(
      /QUERY_API_PORT: expected a port number[\s\S]*QUERY_API_ANALYST_VISIBILITY_FILE: visibility\.yaml:1:16: default\.ip/,
    )
  })
})
