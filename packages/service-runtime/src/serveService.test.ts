import { EventEmitter } from 'node:events'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'
import { createLogger } from './logger.js'
import { serveService } from './serveService.js'

describe('serveService', () => {
  it('starts the service with its ops server, and on SIGTERM stops it, the server, then the rest', async () => {
    const calls: string[] = []
    const signals = new EventEmitter()
    const exits: number[] = []
    const ops = await serveService({
      service: {
        start: () => Promise.resolve(void calls.push('start')),
        stop: () => Promise.resolve(void calls.push('stop')),
        reload: () => void calls.push('reload'),
        live: () => ({ ok: true }),
        ready: () => ({ ok: calls.includes('start'), details: { joined: true } }),
      },
      ops: { host: '127.0.0.1', port: 0 },
      registry: new Registry(),
      log: createLogger({ service: 'test', level: 'silent' }),
      close: () => Promise.resolve(void calls.push('close')),
      target: signals,
      exit: (code) => exits.push(code),
    })
    const ready = await fetch(`${ops.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ok', joined: true })

    signals.emit('SIGHUP')
    signals.emit('SIGTERM')
    await waitFor(() => exits.length === 1, { timeoutMs: 5_000 })
    expect(calls).toEqual(['start', 'reload', 'stop', 'close'])
    expect(exits).toEqual([0])
    await expect(fetch(`${ops.url}/readyz`)).rejects.toThrow()
  })
})
