import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveKafkaEndpoint } from './dlqEndpoints.js'

describe('resolveKafkaEndpoint', () => {
  const noStack = mkdtempSync(join(tmpdir(), 'dlq-no-stack-'))

  it('needs KAFKA_BROKERS only, not a schema registry', () => {
    expect(resolveKafkaEndpoint({ KAFKA_BROKERS: 'b1:9092,b2:9092' }, noStack).brokers).toEqual([
      'b1:9092',
      'b2:9092',
    ])
  })

  it('names what is missing when neither the environment nor a local stack gives Kafka', () => {
    expect(() => resolveKafkaEndpoint({}, noStack)).toThrow(
      `KAFKA_BROKERS not set, and no local stack is running in ${noStack}: set it, or start one with \`npm run stack\``,
    )
  })
})
