import { describe, expect, it } from 'vitest'
import { defaultGraceMs, parseVerifyFlags } from './verifyOptions.js'

const local = { path: '/repo/.stack/keys/checkpoint-public-keys.json', exists: true }
const noLocal = { ...local, exists: false }

describe('verify options', () => {
  it("takes the local stack's public keys by default, and compares with the topic only given Kafka", () => {
    expect(parseVerifyFlags({}, {}, local)).toEqual({
      publicKeys: { path: local.path, origin: 'the local stack' },
      checkpointTopic: { topic: null, why: 'KAFKA_BROKERS is not set and no --checkpoints-topic was given' },
      checkpointGraceMs: 180_000,
      json: false,
    })
    expect(parseVerifyFlags({}, { KAFKA_BROKERS: '127.0.0.1:9092' }, local).checkpointTopic).toEqual({
      topic: 'audit.checkpoints',
    })
    expect(
      parseVerifyFlags({}, { KAFKA_BROKERS: 'k:9092', SINK_CHECKPOINT_TOPIC: 'trail.checkpoints' }, local)
        .checkpointTopic,
    ).toEqual({ topic: 'trail.checkpoints' })
    expect(parseVerifyFlags({ checkpointsTopic: 'cp' }, {}, local).checkpointTopic).toEqual({ topic: 'cp' })
  })

  it('reads the range, the tenant, the keys file and the output', () => {
    expect(
      parseVerifyFlags(
        {
          tenant: 'acme',
          since: '2026-03-01',
          until: '2026-03-02T12:00:00+01:00',
          publicKeys: 'keys.json',
          checkpointGraceMs: '5000',
          threads: '0',
          json: true,
        },
        {},
        noLocal,
        '/work',
      ),
    ).toEqual({
      tenant: 'acme',
      since: new Date('2026-03-01T00:00:00Z'),
      until: new Date('2026-03-02T11:00:00Z'),
      publicKeys: { path: '/work/keys.json', origin: '--public-keys' },
      checkpointTopic: { topic: null, why: 'KAFKA_BROKERS is not set and no --checkpoints-topic was given' },
      checkpointGraceMs: 5000,
      threads: 0,
      json: true,
    })
  })

  it('names every bad flag, and what it accepts, in one error', () => {
    expect(() =>
      parseVerifyFlags(
        { since: 'yesterday', until: '2026-02-30', checkpointsTopic: 'a topic', threads: '-1' },
        {},
        noLocal,
      ),
    ).toThrow(
      "--since must be an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z; got 'yesterday'; " +
        "--until must be an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z; got '2026-02-30'; " +
        "--public-keys is required: the published public keys document checkpoints are verified with (`audit-pipeline keys public` makes one); the local stack's, /repo/.stack/keys/checkpoint-public-keys.json, does not exist; " +
        "--checkpoints-topic must be a Kafka topic name (letters, digits, '.', '_' and '-'); got 'a topic'; " +
        "--threads must be a whole number (0: no worker threads); got '-1'",
    )
    expect(() => parseVerifyFlags({ since: '2026-03-02', until: '2026-03-01' }, {}, local)).toThrow(
      '--since (2026-03-02) must be before --until (2026-03-01)',
    )
    expect(() => parseVerifyFlags({ since: '2026-03-01T12:00:00' }, {}, local)).toThrow(
      '--since must be an ISO-8601',
    )
  })

  it('gives an entry twice the sink’s checkpoint interval and a minute before its checkpoint is overdue', () => {
    expect(defaultGraceMs({})).toBe(180_000)
    expect(defaultGraceMs({ SINK_CHECKPOINT_INTERVAL_MS: '10000' })).toBe(80_000)
    expect(() => defaultGraceMs({ SINK_CHECKPOINT_INTERVAL_MS: '10s' })).toThrow(
      "SINK_CHECKPOINT_INTERVAL_MS must be a positive integer; got '10s'",
    )
  })
})
