import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { destinationTopics, loadForwarderConfig } from './config.js'

const required = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8080/apis/ccompat/v7',
  FORWARDER_DESTINATIONS_FILE: 'deploy/forwarder/destinations.example.yaml',
}

function problems(env: Record<string, string>): string[] {
  try {
    loadForwarderConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`)
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadForwarderConfig', () => {
  it('applies defaults and names each destination’s group and topics', () => {
    const config = loadForwarderConfig(required)
    expect(config).toMatchObject({
      inputTopics: ['audit.forward'],
      checkpointTopic: 'audit.checkpoints',
      groupIdPrefix: 'audit-forwarder',
      createTopics: true,
      sessionTimeoutMs: 30_000,
      shutdownDeadlineMs: 20_000,
      ops: { port: 9466 },
    })
    expect(destinationTopics(config, 'siem')).toEqual({
      groupId: 'audit-forwarder.siem',
      deadLetterTopic: 'audit.forward.dlq.siem',
      retryTopic: 'audit.forward.retry.siem',
    })
  })

  it('lists every missing or bad setting at once', () => {
    expect(
      problems({
        FORWARDER_SESSION_TIMEOUT_MS: '7000',
        FORWARDER_SHUTDOWN_DEADLINE_MS: '9000',
        FORWARDER_CONCURRENT_PARTITIONS: 'many',
        FORWARDER_BATCH_SIZE: '10',
      }),
    ).toEqual([
      expect.stringMatching(
        /^FORWARDER_BATCH_SIZE: unknown setting; the forwarder reads: FORWARDER_DESTINATIONS_FILE, /,
      ),
      'KAFKA_BROKERS: required: host:port,…',
      'SCHEMA_REGISTRY_URL: required: the Confluent-compatible registry URL',
      'FORWARDER_DESTINATIONS_FILE: required: the destinations file (YAML), e.g. deploy/forwarder/destinations.example.yaml',
      'FORWARDER_CONCURRENT_PARTITIONS: expected a whole number, e.g. 6',
    ])
    expect(problems({ ...required, FORWARDER_CHECKPOINT_TOPIC: 'audit checkpoints' })).toEqual([
      'FORWARDER_CHECKPOINT_TOPIC: expected a Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)',
    ])
    expect(
      problems({ ...required, FORWARDER_SESSION_TIMEOUT_MS: '7000', FORWARDER_SHUTDOWN_DEADLINE_MS: '9000' }),
    ).toEqual([
      'FORWARDER_SHUTDOWN_DEADLINE_MS: must be below FORWARDER_SESSION_TIMEOUT_MS (7000 ms), or the group evicts the instance mid-shutdown',
    ])
  })

  it('reads the checkpoints topic from FORWARDER_CHECKPOINT_TOPIC', () => {
    expect(
      loadForwarderConfig({ ...required, FORWARDER_CHECKPOINT_TOPIC: ' tenant-a.checkpoints ' })
        .checkpointTopic,
    ).toBe('tenant-a.checkpoints')
  })
})
