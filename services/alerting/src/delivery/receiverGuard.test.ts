// The outbound address guard on alert receivers: a receiver whose host resolves to an address it
// may not reach (the cloud metadata endpoint, a private network) gets nothing. Resolution is
// stubbed: the refused addresses are only ever DNS answers here, and the one server is on
// 127.0.0.1, so no traffic leaves the machine.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { AuditEventCodec } from '@audit-pipeline/codec'
import type { ResolveAll } from '@audit-pipeline/outbound'
import { createLogger } from '@audit-pipeline/service-runtime'
import type { AlertPayload } from '../alerts/alertEvent.js'
import { loadAlertingConfig } from '../config.js'
import { createAlertingMetrics } from '../metrics.js'
import { createAlertingService } from '../service/alertingService.js'
import { decideDelivery } from './deliveryOutcome.js'
import { guardedAgent } from './guardedAgent.js'
import { postWebhook } from './postWebhook.js'
import { checkReceiverHosts, ReceiversRefusedError } from './receiverHosts.js'
import { parseReceivers, type Receiver } from './receivers.js'
import { signedRequest } from './signedRequest.js'

const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`
const secrets = { env: { OPS_SECRET: secret }, readFile: () => secret }

const resolveTo =
  (...addresses: string[]): ResolveAll =>
  (_, __, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    )

const alert = {
  alert_id: '2caca6d4-a30b-8ee0-80b6-a5492976ece7',
  status: 'raised',
  rule: 'mass-delete',
  severity: 'critical',
  tenant: 'acme',
} as AlertPayload

function receiverAt(url: string, allowed = '[127.0.0.1]'): Receiver {
  const [receiver] = parseReceivers(
    `receivers:\n  - name: ops\n    url: ${url}\n    secretEnv: OPS_SECRET\n    allowedPrivateAddresses: ${allowed}\n`,
    'receivers.yaml',
    secrets,
  )
  if (!receiver) throw new Error('expected a receiver')
  return receiver
}

/** A receiver on 127.0.0.1 counting the requests that reach it; closed when the test ends. */
async function countingReceiver() {
  const server = createServer((request, response) => {
    received.push(request.url ?? '')
    request.resume()
    response.writeHead(204).end()
  })
  const received: string[] = []
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  onTestFinished(() => new Promise<void>((done) => server.close(() => done())))
  return { port: (server.address() as AddressInfo).port, received }
}

describe('webhook delivery through the address guard', () => {
  it('refuses a host resolving to a refused address before sending anything, and sends once allowed', async () => {
    const { port, received } = await countingReceiver()
    const receiver = receiverAt(`http://receiver.test:${port}/alerts`)
    const post = async (resolve: ResolveAll) => {
      const dispatcher = guardedAgent(receiver.outbound, { connectTimeoutMs: 2_000, resolve })
      onTestFinished(() => dispatcher.close())
      return postWebhook(receiver.url, signedRequest(alert, receiver.signer, new Date()), {
        timeoutMs: 2_000,
        dispatcher,
      })
    }

    // The metadata endpoint beside the allowed loopback address: the whole host is refused.
    const metadata = await post(resolveTo('127.0.0.1', '169.254.169.254'))
    expect(metadata).toEqual({
      kind: 'refused',
      address: '169.254.169.254',
      message:
        "refused to connect to receiver.test: it resolves to 169.254.169.254, a linkLocal address; list it in the receiver's allowedPrivateAddresses if it is meant to be reached",
    })
    expect(decideDelivery(metadata, Date.now())).toMatchObject({
      outcome: 'refused',
      address: '169.254.169.254',
    })
    expect(await post(resolveTo('10.0.0.1'))).toMatchObject({ kind: 'refused', address: '10.0.0.1' })
    expect(received).toEqual([])

    expect(await post(resolveTo('127.0.0.1'))).toMatchObject({ kind: 'response', status: 204 })
    expect(received).toEqual(['/alerts'])
  })

  it('checks every receiver host at start-up, naming the receiver and the address', async () => {
    const receiver = receiverAt('https://hooks.example.com/alerts', '[]')
    expect(await checkReceiverHosts([receiver], resolveTo('93.184.216.34'))).toEqual({
      refusals: [],
      unresolved: [],
    })
    expect((await checkReceiverHosts([receiver], resolveTo('10.0.0.1'))).refusals).toEqual([
      "receiver ops: refused to connect to hooks.example.com: it resolves to 10.0.0.1, a private address; list it in the receiver's allowedPrivateAddresses if it is meant to be reached",
    ])
    const down: ResolveAll = (_, __, callback) =>
      callback(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' }), [])
    expect(await checkReceiverHosts([receiver], down)).toMatchObject({
      refusals: [],
      unresolved: [{ receiver: 'ops', host: 'hooks.example.com' }],
    })
  })

  it('stops the service start before any Kafka client connects when a receiver is refused', async () => {
    const files: Record<string, string> = {
      'rules.yaml':
        'rules:\n  - id: every-delete\n    kind: match\n    severity: warning\n    filter: event.action.kind == "delete"\n',
      'receivers.yaml':
        'receivers:\n  - name: ops\n    url: https://hooks.example.com/alerts\n    secretEnv: OPS_SECRET\n',
    }
    const env = {
      KAFKA_BROKERS: '127.0.0.1:9',
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9',
      ALERTING_RULES_FILE: 'rules.yaml',
      ALERTING_RECEIVERS_FILE: 'receivers.yaml',
      OPS_SECRET: secret,
    }
    const service = createAlertingService({
      config: loadAlertingConfig(env),
      // Nothing listens on port 9: a connection attempt would fail the test another way.
      kafka: new Kafka({ brokers: ['127.0.0.1:9'], logLevel: logLevel.NOTHING, retry: { retries: 0 } }),
      codec: {} as AuditEventCodec,
      metrics: createAlertingMetrics(new Registry()),
      log: createLogger({ service: 'alerting', level: 'silent' }),
      env,
      source: { instance: 'test', version: null },
      readFile: (path) => files[path] ?? '',
      resolve: resolveTo('169.254.169.254'),
    })
    const started = service.start()
    await expect(started).rejects.toBeInstanceOf(ReceiversRefusedError)
    await expect(started).rejects.toThrow(
      /^receiver ops: refused to connect to hooks\.example\.com: it resolves to 169\.254\.169\.254, a linkLocal address/,
    )
  })
})
