import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { testSigningKeyFile } from '@audit-pipeline/testing'
import { keyIdOf } from '@audit-pipeline/integrity'
import { loadSinkConfig } from './config.js'

const minimalEnv = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081',
  CLICKHOUSE_EMBEDDED_PATH: '/var/lib/audit/clickhouse',
  SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadSinkConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`)
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadSinkConfig', () => {
  it('has defaults for everything but the connections', () => {
    const config = loadSinkConfig(minimalEnv)
    expect(config).toMatchObject({
      clickhouse: { kind: 'embedded', dataPath: '/var/lib/audit/clickhouse', database: 'audit' },
      inputTopics: ['audit.normalized', 'audit.alerts', 'audit.access'],
      groupId: 'audit-clickhouse-sink',
      deadLetterTopic: 'audit.dlq',
      batch: { maxRows: 50_000, maxBytes: 32 * 1024 * 1024, maxAgeMs: 1_000 },
      sessionTimeoutMs: 30_000,
      shutdownDeadlineMs: 20_000,
      migrate: true,
      ops: { host: '127.0.0.1', port: 9465, logLevel: 'info' },
      // The consumer runtime's: never give up on Kafka; pause input past half the records dead-lettered.
      consumer: { outage: { giveUpAfterMs: 0 }, deadLetterGuard: { maxShare: 0.5, pauseMs: 600_000 } },
    })
    expect(config.cluster).toBeUndefined()
    expect(config.retention.byCategory['debug']).toEqual({ amount: 7, unit: 'day' })
    expect(config.failpoints.armed).toEqual([])
    expect([...config.namespaceByTopic]).toEqual([
      ['audit.alerts', 'alert'],
      ['audit.access', 'access-record'],
    ])
  })

  it('reads the checkpoint signing key, and says what is wrong with it', () => {
    const config = loadSinkConfig(minimalEnv)
    expect(config.integrity).toMatchObject({
      checkpoints: { intervalMs: 60_000, maxEntries: 100_000 },
      checkpointTopic: 'audit.checkpoints',
    })
    expect(config.integrity.signingKey?.keyId).toBe(keyIdOf(config.integrity.signingKey!.publicKey))
    const { SINK_SIGNING_KEY_FILE: _, ...withoutKey } = minimalEnv
    expect(problemsOf(withoutKey)).toEqual([
      'SINK_SIGNING_KEY_FILE: required: the Ed25519 key checkpoints are signed with (`audit-pipeline keys signing-key --out FILE` makes one), or SINK_CHECKPOINTS=false to chain without signing',
    ])
    expect(problemsOf({ ...minimalEnv, SINK_SIGNING_KEY_FILE: '/no/such/key.pem' })).toEqual([
      expect.stringMatching(/^SINK_SIGNING_KEY_FILE: \/no\/such\/key\.pem: /) as string,
    ])
    expect(loadSinkConfig({ ...withoutKey, SINK_CHECKPOINTS: 'false' }).integrity.signingKey).toBeUndefined()
  })

  it('takes the topics of alerts and access records, and refuses one topic for both', () => {
    const config = loadSinkConfig({ ...minimalEnv, SINK_ALERT_TOPICS: 'a1,a2', SINK_ACCESS_TOPICS: 'r1' })
    expect([...config.namespaceByTopic]).toEqual([
      ['a1', 'alert'],
      ['a2', 'alert'],
      ['r1', 'access-record'],
    ])
    expect(problemsOf({ ...minimalEnv, SINK_ALERT_TOPICS: 'a1', SINK_ACCESS_TOPICS: 'a1' })).toEqual([
      'SINK_ACCESS_TOPICS: a1 is in SINK_ALERT_TOPICS too: a topic holds alerts or access records, not both',
    ])
  })

  it('arms only the failpoints the sink has, with a folder for their markers', () => {
    const armed = loadSinkConfig({
      ...minimalEnv,
      AUDIT_FAILPOINTS: 'sink.between-parts,sink.before-dead-letters',
      AUDIT_FAILPOINTS_DIR: '/tmp/drill',
    })
    expect(armed.failpoints.armed).toEqual(['sink.between-parts', 'sink.before-dead-letters'])
    expect(
      problemsOf({ ...minimalEnv, AUDIT_FAILPOINTS: 'sink.after-everything', AUDIT_FAILPOINTS_DIR: '/tmp' }),
    ).toEqual([
      'AUDIT_FAILPOINTS: unknown failpoint sink.after-everything (this service has sink.between-parts, sink.before-chain, sink.before-dead-letters)',
    ])
    expect(problemsOf({ ...minimalEnv, AUDIT_FAILPOINTS: 'sink.between-parts' })).toEqual([
      'AUDIT_FAILPOINTS_DIR: must be set when AUDIT_FAILPOINTS is',
    ])
  })

  it('takes a ClickHouse server instead of the embedded folder', () => {
    const { CLICKHOUSE_EMBEDDED_PATH: _, ...env } = minimalEnv
    const config = loadSinkConfig({
      ...env,
      CLICKHOUSE_URL: 'http://127.0.0.1:8123',
      SINK_CLICKHOUSE_CLUSTER: 'audit',
    })
    expect(config.clickhouse).toMatchObject({ kind: 'http', url: 'http://127.0.0.1:8123' })
    expect(config.cluster).toBe('audit')
  })

  it('lists every problem at once, each naming its variable', () => {
    expect(
      problemsOf({
        SINK_BATCH_MAX_ROWS: '0',
        SINK_BATCH_MAX_AGE_MS: 'soon',
        SINK_RETENTION: 'debug=forever',
        SINK_BATCH_ROWS: '10',
      }),
    ).toEqual([
      expect.stringMatching(/^SINK_BATCH_ROWS: unknown setting; the sink reads: SINK_INPUT_TOPICS, /),
      'KAFKA_BROKERS: required: host:port,…',
      'SCHEMA_REGISTRY_URL: required: the Confluent-compatible registry URL',
      'CLICKHOUSE_URL: required: a ClickHouse server URL, or CLICKHOUSE_EMBEDDED_PATH for embedded ClickHouse',
      expect.stringMatching(/^SINK_BATCH_MAX_ROWS: expected a whole number above 0/),
      expect.stringMatching(/^SINK_BATCH_MAX_AGE_MS: expected a whole number/),
      expect.stringMatching(/^SINK_RETENTION: .*debug=forever/),
    ])
  })

  it('keeps the shutdown deadline below the session timeout', () => {
    expect(
      problemsOf({ ...minimalEnv, SINK_SESSION_TIMEOUT_MS: '10000', SINK_SHUTDOWN_DEADLINE_MS: '10000' }),
    ).toEqual([
      'SINK_SHUTDOWN_DEADLINE_MS: must be below SINK_SESSION_TIMEOUT_MS (10000 ms), or the group evicts the instance mid-shutdown',
    ])
  })
})
