import { Agent, get } from 'node:http'
import { Counter, Gauge, Registry } from 'prom-client'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { createLogger } from './logger.js'
import { startOpsServer, type CheckReport, type HealthChecks } from './opsServer.js'

function captureLog() {
  const lines: Record<string, unknown>[] = []
  const log = createLogger({
    service: 'test',
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  })
  return { lines, log }
}

async function start(checks: Partial<HealthChecks> = {}, registry = new Registry()) {
  const { lines, log } = captureLog()
  const server = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    checks: { live: () => ({ ok: true }), ready: () => ({ ok: true }), ...checks },
    log,
  })
  onTestFinished(() => server.close())
  return { server, registry, logLines: lines }
}

describe('startOpsServer', () => {
  it('listens on the port the system picked and says where', async () => {
    const { server, logLines } = await start()
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'ops server listening', url: server.url }))
  })

  it('serves the registry on GET /metrics', async () => {
    const registry = new Registry()
    new Counter({ name: 'audit_test_events_total', help: 'events', registers: [registry] }).inc(7)
    const { server } = await start({}, registry)
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe(registry.contentType)
    expect(await response.text()).toContain('audit_test_events_total 7')
    expect((await fetch(`${server.url}/metrics?name[]=x`)).status).toBe(200)
  })

  it('answers 500 when collecting metrics fails', async () => {
    const registry = new Registry()
    new Gauge({
      name: 'audit_test_broken',
      help: 'broken',
      registers: [registry],
      collect() {
        throw new Error('collector broke')
      },
    })
    const { server, logLines } = await start({}, registry)
    const response = await fetch(`${server.url}/metrics`)
    expect(response.status).toBe(500)
    expect(await response.text()).toContain('collector broke')
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'collecting metrics failed' }),
    )
  })

  it.each([
    ['/healthz', 'live'],
    ['/readyz', 'ready'],
  ] as const)(
    'answers %s from %s(): 200 when ok, 503 when failing, with the details',
    async (path, check) => {
      let report: CheckReport = { ok: true, details: { consumer: 'running', lagMessages: 12 } }
      const { server } = await start({ [check]: () => report })

      const ok = await fetch(`${server.url}${path}`)
      expect(ok.status).toBe(200)
      expect(ok.headers.get('content-type')).toBe('application/json; charset=utf-8')
      expect(await ok.json()).toEqual({ status: 'ok', consumer: 'running', lagMessages: 12 })

      report = { ok: false, details: { consumer: 'crashed', status: 'fine really' } }
      const failing = await fetch(`${server.url}${path}`)
      expect(failing.status).toBe(503)
      expect(await failing.json()).toEqual({ status: 'failing', consumer: 'crashed' })
    },
  )

  it('keeps liveness and readiness apart', async () => {
    const { server } = await start({ live: () => ({ ok: true }), ready: () => ({ ok: false }) })
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
  })

  it('answers 503 with the message when a check throws', async () => {
    const { server, logLines } = await start({
      ready: () => {
        throw new Error('state not initialised')
      },
    })
    const response = await fetch(`${server.url}/readyz`)
    expect(response.status).toBe(503)
    expect(await response.json()).toEqual({ status: 'failing', error: 'state not initialised' })
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 'error', check: 'ready', msg: 'health check threw' }),
    )
  })

  it.each(['/metrics', '/healthz', '/readyz'])('answers HEAD %s like GET, without a body', async (path) => {
    const { server } = await start({ live: () => ({ ok: false }) })
    const viaGet = await fetch(`${server.url}${path}`)
    const getBody = await viaGet.text()
    const viaHead = await fetch(`${server.url}${path}`, { method: 'HEAD' })
    expect(viaHead.status).toBe(viaGet.status)
    expect(viaHead.headers.get('content-type')).toBe(viaGet.headers.get('content-type'))
    expect(Number(viaHead.headers.get('content-length'))).toBeGreaterThan(0)
    if (path !== '/metrics') expect(viaHead.headers.get('content-length')).toBe(String(getBody.length))
    expect(await viaHead.text()).toBe('')
  })

  it.each(['POST', 'PUT', 'DELETE'])('answers %s with 405 and the allowed methods', async (method) => {
    const { server } = await start()
    for (const path of ['/metrics', '/healthz', '/readyz']) {
      const response = await fetch(`${server.url}${path}`, { method })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET, HEAD')
    }
  })

  it('answers 404 for any other path', async () => {
    const { server } = await start()
    for (const path of ['/', '/metrics/', '/health', '/readyz/extra']) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(404)
    }
  })

  it('rejects a port in use, naming the address and OPS_PORT', async () => {
    const { server } = await start()
    const { log } = captureLog()
    const starting = startOpsServer({
      host: '127.0.0.1',
      port: server.port,
      registry: new Registry(),
      checks: { live: () => ({ ok: true }), ready: () => ({ ok: true }) },
      log,
    })
    await expect(starting).rejects.toBeInstanceOf(ConfigError)
    await expect(starting).rejects.toThrow(`OPS_PORT: 127.0.0.1:${server.port} is already in use`)
  })

  it('closes promptly with an idle keep-alive connection open', async () => {
    const { server } = await start()
    const agent = new Agent({ keepAlive: true })
    onTestFinished(() => agent.destroy())
    await new Promise<void>((resolve, reject) => {
      get(`${server.url}/healthz`, { agent }, (response) => {
        response.resume()
        response.on('end', resolve)
      }).on('error', reject)
    })
    const [socket] = Object.values(agent.freeSockets).flat()
    expect(socket).toBeDefined()
    const socketClosed = new Promise((resolve) => socket?.once('close', resolve))

    const closingAt = performance.now()
    await server.close()
    await socketClosed
    // The server's keep-alive timeout is 5 s: closing only when it expired would fail this.
    expect(performance.now() - closingAt).toBeLessThan(1_000)
  })

  it('closes promptly while a request is still being answered', async () => {
    let collecting!: () => void
    const collectStarted = new Promise<void>((resolve) => (collecting = resolve))
    let finishCollect!: () => void
    const registry = new Registry()
    new Gauge({
      name: 'audit_test_slow',
      help: 'slow',
      registers: [registry],
      async collect() {
        collecting()
        await new Promise<void>((resolve) => (finishCollect = resolve))
      },
    })
    const { server } = await start({}, registry)
    onTestFinished(() => finishCollect())
    const scrape = fetch(`${server.url}/metrics`)
    await collectStarted

    const closingAt = performance.now()
    await server.close()
    expect(performance.now() - closingAt).toBeLessThan(1_000)
    await expect(scrape).rejects.toThrow()
  })

  it('can be closed twice', async () => {
    const { server } = await start()
    await Promise.all([server.close(), server.close()])
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow()
  })
})
