import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

/** What arrived at one path of the inbox. */
export type InboxCount = { deliveries: number; verified: number; rejected: number }

export type WebhookInbox = {
  /** e.g. http://127.0.0.1:41234; a receiver or destination posts to `<url>/<name>`. */
  url: string
  /** The `whsec_…` secret every delivery must be signed with. */
  secret: string
  counts(): Record<string, InboxCount>
  close(): Promise<void>
}

const maxBodyBytes = 16 * 1024 * 1024

/** A Standard Webhooks signing secret: `whsec_` and 24 random bytes, base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

/**
 * The local stand-in for ops' alert endpoint and the SIEM's webhook: accepts Standard Webhooks
 * deliveries on 127.0.0.1, checks each signature, and appends one JSON line per delivery to
 * `logFile` (path, webhook-id, whether the signature verified, the body). A delivery whose
 * signature does not verify is answered 401, as a real receiver would, and counted as rejected.
 */
export async function startWebhookInbox(options: {
  logFile: string
  /** By default a free one. */
  port?: number
  /** By default a new one (newWebhookSecret). */
  secret?: string
}): Promise<WebhookInbox> {
  const secret = options.secret ?? newWebhookSecret()
  const webhook = new Webhook(secret)
  const counts: Record<string, InboxCount> = {}

  const server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { allow: 'POST' }).end()
      return
    }
    readBody(request).then(
      (body) => {
        const path = (request.url ?? '/').split('?')[0] ?? '/'
        const count = (counts[path] ??= { deliveries: 0, verified: 0, rejected: 0 })
        count.deliveries++
        let verified = true
        try {
          webhook.verify(body, request.headers as Record<string, string>)
        } catch {
          verified = false
        }
        if (verified) count.verified++
        else count.rejected++
        appendFileSync(
          options.logFile,
          `${JSON.stringify({
            received_at: new Date().toISOString(),
            path,
            webhook_id: request.headers['webhook-id'] ?? null,
            verified,
            body: parsedOrText(body),
          })}\n`,
        )
        response.writeHead(verified ? 204 : 401).end()
      },
      () => response.writeHead(413).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    secret,
    counts: () => structuredClone(counts),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBodyBytes) throw new Error('body too large')
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parsedOrText(body: string): unknown {
  try {
    return JSON.parse(body) as unknown
  } catch {
    return body
  }
}
