import { createServer, type AddressInfo, type Socket } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startHttpReceiver, startSyslogReceiver } from '../../../../test/forwarder/receivers.js'
import { DeliveryError } from '../delivery/deliveryError.js'
import type { Destination, HttpDestination, SyslogDestination } from '../destinations/destination.js'
import { parseDestinations } from '../destinations/parseDestinations.js'
import { createHttpTransport } from './httpTransport.js'
import { createSyslogTransport } from './syslogTransport.js'
import type { Transport } from './transport.js'

const secret = `whsec_${Buffer.from('a test secret of thirty-two bytes').toString('base64')}`

function destinationFrom(yaml: string): Destination {
  const [destination] = parseDestinations(`destinations:\n  - ${yaml.trim().split('\n').join('\n    ')}\n`, {
    file: 'test.yaml',
    env: { SECRET: secret, TOKEN: 't0k3n' },
    readFile: () => '',
    defaultHostname: 'test-host',
  })
  return destination!
}

const batch = (body: string) => ({ id: 'msg_1', body: Buffer.from(body), eventIds: ['e-1'] })
const signal = new AbortController().signal

function closing(transport: Transport): Transport {
  onTestFinished(() => transport.close())
  return transport
}

describe('HTTP transport', () => {
  it('POSTs the body with signature, auth and custom headers', async () => {
    const receiver = await startHttpReceiver()
    const destination = destinationFrom(`
name: hook
kind: webhook
url: ${receiver.url}/in?x=1
signing_secret_env: SECRET
auth: { bearer_token_env: TOKEN }
headers: { X-Tag: audit }
allowed_private_addresses: [127.0.0.1]`) as HttpDestination
    const transport = closing(createHttpTransport(destination))
    await transport.send(batch('[{"event_id":"e-1"}]'), signal)
    const [request] = receiver.requests
    expect(request).toMatchObject({ method: 'POST', path: '/in?x=1', body: '[{"event_id":"e-1"}]' })
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer t0k3n',
      'x-tag': 'audit',
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
    })
    expect(new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>)).toEqual([
      { event_id: 'e-1' },
    ])
  })

  it('turns 503 with Retry-After into a retriable error, 400 into a final one, reading at most max_response_bytes', async () => {
    const receiver = await startHttpReceiver((_, index) =>
      index === 0
        ? { status: 503, headers: { 'retry-after': '2' }, body: 'busy' }
        : { status: 400, body: 'x'.repeat(10_000) },
    )
    const destination = destinationFrom(`
name: hook
kind: webhook
url: ${receiver.url}/
max_response_bytes: 100
allowed_private_addresses: [127.0.0.1]`) as HttpDestination
    const transport = closing(createHttpTransport(destination))
    const first = await transport.send(batch('[]'), signal).catch((error: unknown) => error)
    expect(first).toMatchObject({
      code: 'DESTINATION_UNAVAILABLE',
      retriable: true,
      reason: 'HTTP_503',
      retryAfterMs: 2_000,
    })
    const second = await transport.send(batch('[]'), signal).catch((error: unknown) => error)
    expect(second).toMatchObject({ code: 'DESTINATION_REJECTED', retriable: false, reason: 'HTTP_400' })
    expect((second as Error).message).toBe(`HTTP 400 (refused): ${'x'.repeat(100)}… (cut at 100 bytes)`)
  })

  it('times out a destination that does not answer, as retriable', async () => {
    // A server that accepts connections and never answers.
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => void sockets.add(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy()
          silent.close(() => resolve())
        }),
    )
    const { port } = silent.address() as AddressInfo
    const destination = destinationFrom(`
name: slow
kind: webhook
url: http://127.0.0.1:${port}/
timeouts: { connect_ms: 1000, response_ms: 300 }
allowed_private_addresses: [127.0.0.1]`) as HttpDestination
    const transport = closing(createHttpTransport(destination))
    const error = await transport.send(batch('[]'), signal).catch((thrown: unknown) => thrown)
    expect(error).toMatchObject({
      code: 'DESTINATION_UNAVAILABLE',
      reason: 'RESPONSE_TIMEOUT',
      retriable: true,
    })
  })

  it('refuses a host name that resolves to a loopback address the destination is not allowed', async () => {
    const receiver = await startHttpReceiver()
    const destination = destinationFrom(`
name: sneaky
kind: webhook
url: http://localhost:${receiver.port}/`) as HttpDestination
    const transport = closing(createHttpTransport(destination))
    const error = await transport.send(batch('[]'), signal).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(DeliveryError)
    expect(error).toMatchObject({ code: 'DESTINATION_REFUSED', reason: 'PRIVATE_ADDRESS', retriable: false })
    expect((error as Error).message).toMatch(
      /^refused to connect to localhost: it resolves to (127\.0\.0\.1|::1), a loopback address/,
    )
    expect(receiver.requests).toHaveLength(0)
  })
})

describe('syslog transport', () => {
  it('writes framed messages and reconnects after the receiver drops the connection', async () => {
    const receiver = await startSyslogReceiver()
    const destination = destinationFrom(`
name: siem
kind: syslog
host: 127.0.0.1
port: ${receiver.port}
allowed_private_addresses: [127.0.0.1]`) as SyslogDestination
    const transport = closing(createSyslogTransport(destination))
    await transport.send(batch('5 hello6 world!'), signal)
    await expect.poll(() => receiver.messages).toEqual(['hello', 'world!'])
    receiver.dropConnections()
    // The first write after the drop may still land in the dead socket's buffer or fail; either
    // way a batch that fails is retried by the caller, so send until one is seen.
    await expect
      .poll(async () => {
        await transport.send(batch('5 again'), signal).catch(() => undefined)
        return receiver.messages.includes('again')
      })
      .toBe(true)
    expect(receiver.malformed).toEqual([])
  })

  it('fails with a retriable error while nothing listens', async () => {
    const receiver = await startSyslogReceiver()
    await receiver.close()
    const destination = destinationFrom(`
name: siem
kind: syslog
host: 127.0.0.1
port: ${receiver.port}
allowed_private_addresses: [127.0.0.1]`) as SyslogDestination
    const transport = closing(createSyslogTransport(destination))
    await expect(transport.send(batch('1 x'), signal)).rejects.toMatchObject({
      code: 'DESTINATION_UNAVAILABLE',
      reason: 'CONNECT_REFUSED',
    })
  })
})
