import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'
import { Webhook } from 'standardwebhooks'

/** One request the receiver accepted: its verified webhook id and parsed body. */
export type ReceivedWebhook = {
  id: string
  type: string
  data: { alert_id: string; rule: string; status: string; severity: string; [field: string]: unknown }
  receivedAtMs: number
}

export type WebhookReceiver = {
  url: string
  /** Every request answered 2xx, in arrival order (repeats included: tests count them). */
  readonly delivered: ReceivedWebhook[]
  /** Requests answered with an error status, and requests whose signature did not verify. */
  readonly refused: number
  readonly badSignatures: number
  close(): Promise<void>
}

/**
 * A local HTTP receiver on 127.0.0.1 and a free port that verifies each request's Standard
 * Webhooks signature with the shared secret, as a real receiver must. `respond` picks the status
 * per request (default 200): `(n) => (n <= 2 ? 503 : 200)` is a receiver that recovers; a promise
 * that never settles holds the request unanswered (a sender killed meanwhile never got its 2xx).
 */
export async function startWebhookReceiver(
  secret: string,
  respond: (requestNumber: number, webhookId: string) => number | Promise<number> = () => 200,
): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret)
  const delivered: ReceivedWebhook[] = []
  const counts = { requests: 0, refused: 0, badSignatures: 0 }
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      counts.requests++
      let payload: { type: string; data: ReceivedWebhook['data'] }
      try {
        payload = verifier.verify(body, headersOf(request.headers)) as typeof payload
      } catch {
        counts.badSignatures++
        response.writeHead(401).end()
        return
      }
      const webhookId = String(request.headers['webhook-id'])
      void Promise.resolve(respond(counts.requests, webhookId)).then((status) => {
        if (status >= 200 && status < 300) {
          delivered.push({
            id: webhookId,
            type: payload.type,
            data: payload.data,
            receivedAtMs: Date.now(),
          })
        } else {
          counts.refused++
        }
        response.writeHead(status).end()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  onTestFinished(close)
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    delivered,
    get refused() {
      return counts.refused
    },
    get badSignatures() {
      return counts.badSignatures
    },
    close,
  }
}

function headersOf(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' ? [[name, value]] : [])),
  )
}

/** A random `whsec_` secret, as `audit-pipeline` operators generate one. */
export function newWebhookSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`
}
