import type { Registry } from 'prom-client'
import type { Logger } from './logger.js'
import { startOpsServer, type HealthChecks, type OpsServer } from './opsServer.js'
import type { OpsSettings } from './opsSettings.js'
import { handleSignals, type SignalTarget } from './signals.js'

/** What a long-running service offers its process: start, stop and its health. */
export type ServiceLifecycle = HealthChecks & {
  start(): Promise<void>
  stop(): Promise<void>
  /** Re-reads what can change at run time, on SIGHUP. */
  reload?(): Promise<void> | void
}

export type ServeServiceOptions = {
  service: ServiceLifecycle
  ops: Pick<OpsSettings, 'host' | 'port'>
  registry: Registry
  log: Logger
  /** Closed after the service stopped and the ops server closed (storage, producers, …). */
  close?: () => Promise<void>
  /** More fields for the `ready` log line. */
  readyDetails?: Record<string, unknown>
  target?: SignalTarget
  exit?: (code: number) => void
}

/**
 * The part of every service process after its wiring: the ops server (/metrics, /healthz,
 * /readyz) on the service's checks, signal handling (SIGTERM/SIGINT stop the service, then the
 * ops server, then `close`; SIGHUP reloads), the start, and the `ready` log line with the ops URLs.
 */
export async function serveService(options: ServeServiceOptions): Promise<OpsServer> {
  const { service, log, close } = options
  const ops = await startOpsServer({
    host: options.ops.host,
    port: options.ops.port,
    registry: options.registry,
    checks: { live: () => service.live(), ready: () => service.ready() },
    log,
  })
  handleSignals({
    log,
    stop: async () => {
      await service.stop()
      await ops.close()
      await close?.()
    },
    ...(service.reload && { reload: () => service.reload?.() }),
    ...(options.target && { target: options.target }),
    ...(options.exit && { exit: options.exit }),
  })
  await service.start()
  log.info({ metrics: `${ops.url}/metrics`, ready: `${ops.url}/readyz`, ...options.readyDetails }, 'ready')
  return ops
}
