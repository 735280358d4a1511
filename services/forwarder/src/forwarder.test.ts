import { createServer, type AddressInfo } from 'node:net'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import { createLogger } from '@audit-pipeline/service-runtime'
import { waitFor } from '@audit-pipeline/testing'
import { loadForwarderConfig } from './config.js'
import { parseDestinations } from './destinations/parseDestinations.js'
import { createForwarder } from './forwarder.js'
import { createForwarderMetrics } from './metrics.js'

/** A port nothing listens on: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const unusedCodec: AuditEventCodec = {
  schemaId: 1,
  encode: () => Buffer.alloc(0),
  decode: () => Promise.reject(new Error('no event is read in this test')),
}

describe('createForwarder', () => {
  it('waits out an unavailable Kafka at start-up instead of failing, not ready meanwhile, until stopped', async () => {
    const broker = `127.0.0.1:${await closedPort()}`
    const config = loadForwarderConfig({
      KAFKA_BROKERS: broker,
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8080/apis/ccompat/v7',
      FORWARDER_DESTINATIONS_FILE: 'test.yaml',
    })
    const destinations = parseDestinations(
      'destinations:\n  - name: hook\n    kind: webhook\n    url: http://127.0.0.1:9/\n    allowed_private_addresses: [127.0.0.1]\n',
      { file: 'test.yaml', env: {}, readFile: () => '', defaultHostname: 'test-host' },
    )
    const lines: { level: string; msg: string }[] = []
    const forwarder = createForwarder({
      config,
      destinations,
      kafka: new Kafka({
        brokers: [broker],
        retry: { retries: 1, initialRetryTime: 10, maxRetryTime: 20 },
        logLevel: logLevel.NOTHING,
      }),
      codec: unusedCodec,
      metrics: createForwarderMetrics(new Registry()),
      log: createLogger({
        service: 'forwarder',
        level: 'warn',
        destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
      }),
    })
    onTestFinished(() => forwarder.stop())
    let outcome: 'started' | 'failed' | undefined
    const starting = forwarder.start().then(
      () => (outcome = 'started'),
      () => (outcome = 'failed'),
    )
    const waiting = () =>
      lines.filter((line) => line.msg === 'Kafka unavailable; waiting to prepare the topics')
    await waitFor(() => waiting().length >= 2, { timeoutMs: 20_000, description: 'two waits for Kafka' })
    expect(outcome).toBeUndefined()
    expect(forwarder.ready().ok).toBe(false)
    expect(forwarder.live().ok).toBe(true)
    await forwarder.stop()
    await starting
    expect(outcome).toBe('failed')
  })
})
