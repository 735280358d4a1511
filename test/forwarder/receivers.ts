import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'

/** One request an HTTP receiver got, and what it answered. */
export type ReceivedRequest = {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: string
  status: number
}

/** What to answer to a request: a status, optional headers and body. */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }

export type HttpReceiver = {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  readonly requests: readonly ReceivedRequest[]
  /** Requests read but not answered yet (an answer with `delayMs` keeps them open). */
  inFlight(): number
  /** Changes how later requests are answered. */
  answerWith(answer: (request: Omit<ReceivedRequest, 'status'>, index: number) => Answer): void
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1 and a free port, recording every request; closed when the test ends. */
export async function startHttpReceiver(
  answer: (request: Omit<ReceivedRequest, 'status'>, index: number) => Answer = () => ({ status: 200 }),
): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = []
  let respond = answer
  let open = 0
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const received = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      const reply = respond(received, requests.length)
      const send = () => {
        requests.push({ ...received, status: reply.status })
        response.writeHead(reply.status, reply.headers).end(reply.body ?? '')
      }
      if (reply.delayMs === undefined) {
        send()
        return
      }
      open++
      setTimeout(() => {
        open--
        if (!response.destroyed) send()
      }, reply.delayMs)
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  onTestFinished(close)
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    inFlight: () => open,
    answerWith: (next) => {
      respond = next
    },
    close,
  }
}

export type SyslogReceiver = {
  readonly port: number
  /** Every message received, framing removed, in arrival order. */
  readonly messages: readonly string[]
  /** Bytes that did not parse as `<length> <message>` frames: must stay empty. */
  readonly malformed: readonly string[]
  /** Drops every open connection (the forwarder has to reconnect). */
  dropConnections(): void
  close(): Promise<void>
}

/** A TCP syslog receiver on 127.0.0.1 reading octet-counted frames (RFC 6587); closed when the test ends. */
export async function startSyslogReceiver(): Promise<SyslogReceiver> {
  const messages: string[] = []
  const malformed: string[] = []
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let pending = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      for (;;) {
        const space = pending.indexOf(0x20)
        if (space === -1) return
        const header = pending.subarray(0, space).toString()
        if (!/^[1-9]\d{0,8}$/.test(header)) {
          malformed.push(pending.toString())
          pending = Buffer.alloc(0)
          return
        }
        const length = Number(header)
        if (pending.length < space + 1 + length) return
        messages.push(pending.subarray(space + 1, space + 1 + length).toString('utf8'))
        pending = pending.subarray(space + 1 + length)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  onTestFinished(close)
  return {
    port,
    messages,
    malformed,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy()
    },
    close,
  }
}
