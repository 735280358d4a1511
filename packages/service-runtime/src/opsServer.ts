import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { listenErrorFor } from './listenError.js'
import type { Logger } from './logger.js'

/** What a health check answers. `details` are added to the JSON body (never under `status`). */
export type CheckReport = { ok: boolean; details?: Record<string, unknown> }

/**
 * Liveness (restart me if failing) and readiness (send me no work if failing). They are synchronous
 * on purpose: a probe should read state the service already keeps, not do I/O of its own.
 */
export type HealthChecks = { live(): CheckReport; ready(): CheckReport }

export type OpsServerOptions = {
  host: string
  /** 0 lets the system pick a free port; `OpsServer.port` says which. */
  port: number
  registry: Registry
  checks: HealthChecks
  log: Logger
}

export type OpsServer = {
  /** e.g. http://127.0.0.1:9464 */
  url: string
  port: number
  /** Stops listening and closes every connection, keep-alive ones included. Safe to call twice. */
  close(): Promise<void>
}

type Reply = { status: number; headers: Record<string, string>; body: string }

const allowedMethods = 'GET, HEAD'
const paths = ['/metrics', '/healthz', '/readyz'] as const
type OpsPath = (typeof paths)[number]

function isOpsPath(path: string): path is OpsPath {
  return (paths as readonly string[]).includes(path)
}

function textReply(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers }, body: `${body}\n` }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function checkReply(name: 'live' | 'ready', check: () => CheckReport, log: Logger): Reply {
  let body: string
  let ok: boolean
  try {
    const report = check()
    ok = report.ok
    // `status` is the one field monitors read; details may not overwrite it.
    const { status: _ignored, ...details } = report.details ?? {}
    body = JSON.stringify({ status: ok ? 'ok' : 'failing', ...details })
  } catch (error) {
    log.error({ err: error, check: name }, 'health check threw')
    ok = false
    body = JSON.stringify({ status: 'failing', error: errorMessage(error) })
  }
  return {
    status: ok ? 200 : 503,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: `${body}\n`,
  }
}

async function replyTo(
  method: string | undefined,
  url: string | undefined,
  { registry, checks, log }: Pick<OpsServerOptions, 'registry' | 'checks' | 'log'>,
): Promise<Reply> {
  const path = (url ?? '/').split('?', 1)[0] ?? '/'
  if (!isOpsPath(path)) return textReply(404, 'not found: this server answers /metrics, /healthz and /readyz')
  if (method !== 'GET' && method !== 'HEAD') {
    return textReply(405, 'method not allowed', { Allow: allowedMethods })
  }
  switch (path) {
    case '/healthz':
      return checkReply('live', () => checks.live(), log)
    case '/readyz':
      return checkReply('ready', () => checks.ready(), log)
    case '/metrics':
      try {
        return {
          status: 200,
          headers: { 'Content-Type': registry.contentType },
          body: await registry.metrics(),
        }
      } catch (error) {
        log.error({ err: error }, 'collecting metrics failed')
        return textReply(500, `collecting metrics failed: ${errorMessage(error)}`)
      }
  }
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    ...reply.headers,
    'Content-Length': Buffer.byteLength(reply.body).toString(),
  })
  // For HEAD, Node sends the status and headers (GET's Content-Length included) and drops the body.
  response.end(reply.body)
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

/**
 * Serves /metrics, /healthz and /readyz. Resolves once listening; rejects when the address cannot
 * be used, with a ConfigError naming OPS_PORT or OPS_HOST.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { host, log } = options
  const server = createServer((request, response) => {
    replyTo(request.method, request.url, options).then(
      (reply) => send(response, reply),
      (error: unknown) => {
        log.error({ err: error, path: request.url }, 'ops request failed')
        if (!response.headersSent) response.writeHead(500)
        response.end()
      },
    )
  })

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening)
      reject(listenErrorFor(error, host, options.port))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options.port, host)
  })
  // Without a listener, a later server error would be thrown as an uncaught exception.
  server.on('error', (error) => log.error({ err: error }, 'ops server error'))

  const { port } = server.address() as AddressInfo
  const url = `http://${urlHost(host)}:${port}`
  log.info({ url }, 'ops server listening')

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // close() alone waits for open connections: a scraper's keep-alive socket or a half-sent
        // request would hold shutdown for seconds. Everything served here is safe to cut.
        server.closeAllConnections()
      })
      return closing
    },
  }
}
