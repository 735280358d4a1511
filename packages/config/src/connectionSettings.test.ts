import { describe, expect, it } from 'vitest'
import { ConfigError } from './configError.js'
import { loadConnectionSettings } from './connectionSettings.js'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConnectionSettings(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`)
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConnectionSettings', () => {
  it('leaves every part to the local stack when nothing is set', () => {
    expect(loadConnectionSettings({})).toEqual({
      kafka: { clientId: 'audit-pipeline' },
      clickhouse: { kind: 'embedded', database: 'audit' },
    })
  })

  it('reads an existing cluster, registry and ClickHouse server', () => {
    const settings = loadConnectionSettings({
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'audit',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_SSL_CA_FILE: '/etc/ca.pem',
      SCHEMA_REGISTRY_URL: 'https://registry.example/apis/ccompat/v7',
      CLICKHOUSE_URL: 'https://clickhouse.example:8443',
      CLICKHOUSE_DATABASE: 'audit_prod',
    })
    expect(settings.kafka).toEqual({
      clientId: 'audit-pipeline',
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      ssl: { ca: '/etc/ca.pem', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'audit', password: 's3cret' },
    })
    expect(settings.schemaRegistry).toEqual({ url: 'https://registry.example/apis/ccompat/v7' })
    expect(settings.clickhouse).toEqual({
      kind: 'http',
      url: 'https://clickhouse.example:8443',
      database: 'audit_prod',
    })
  })

  it('treats empty variables as unset', () => {
    expect(loadConnectionSettings({ KAFKA_BROKERS: '', CLICKHOUSE_URL: ' ' }).clickhouse.kind).toBe(
      'embedded',
    )
  })

  it('names every wrong variable and what it accepts', () => {
    expect(
      problemsOf({
        KAFKA_BROKERS: 'localhost',
        KAFKA_SASL_MECHANISM: 'kerberos',
        CLICKHOUSE_URL: 'ftp://x',
        KAFKA_SSL: 'yes',
      }),
    ).toEqual([
      'KAFKA_BROKERS: expected a comma-separated list of host:port, e.g. 127.0.0.1:9092,127.0.0.1:9093',
      'KAFKA_SSL: expected true or false',
      'KAFKA_SASL_MECHANISM: expected one of: plain, scram-sha-256, scram-sha-512',
      'CLICKHOUSE_URL: expected an http:// or https:// URL',
    ])
  })

  it('checks settings that go together', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM=plain',
    ])
    expect(problemsOf({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })[0]).toMatch(
      /^KAFKA_SASL_MECHANISM: required when/,
    )
    expect(problemsOf({ KAFKA_SSL_CERT_FILE: '/c.pem' })).toEqual([
      'KAFKA_SSL_KEY_FILE: client certificate and key go together: set both or neither',
    ])
    expect(problemsOf({ CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_EMBEDDED_PATH: '/d' })).toEqual([
      'CLICKHOUSE_EMBEDDED_PATH: only used without CLICKHOUSE_URL: unset one of them',
    ])
  })

  it('says where the bad settings came from', () => {
    expect(() => loadConnectionSettings({ CLICKHOUSE_DATABASE: 'drop table' })).toThrow(
      /invalid configuration \(environment\):\n {2}- CLICKHOUSE_DATABASE: expected a database name/,
    )
  })
})
