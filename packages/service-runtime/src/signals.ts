import type { Logger } from './logger.js'

export const shutdownSignals = ['SIGTERM', 'SIGINT'] as const
export type ShutdownSignal = (typeof shutdownSignals)[number]
export type HandledSignal = ShutdownSignal | 'SIGHUP'

/** What signals arrive on: `process`, or a plain EventEmitter in tests. */
export type SignalTarget = {
  on(signal: HandledSignal, listener: () => void): unknown
  off(signal: HandledSignal, listener: () => void): unknown
}

export type SignalHandlers = {
  /** Stops the service cleanly; called once, on the first SIGTERM or SIGINT. */
  stop: (signal: ShutdownSignal) => Promise<void> | void
  /** Re-reads what can change at run time; called on SIGHUP, never twice at once. */
  reload?: () => Promise<void> | void
  log: Logger
  target?: SignalTarget
  exit?: (code: number) => void
}

/**
 * Installs the process's signal handling and returns a function that removes it.
 *
 * - SIGTERM/SIGINT: `stop` once, then exit 0 (or 1 if it failed). Another one while stopping exits 1
 *   at once: the operator insists.
 * - SIGHUP: `reload`, one at a time; SIGHUPs during a reload are folded into one more reload after
 *   it. A failed reload is logged and the service keeps its previous state. Without `reload`, SIGHUP
 *   is logged and ignored rather than left to Node, whose default is to terminate.
 */
export function handleSignals({
  stop,
  reload,
  log,
  target = process,
  exit = (code) => process.exit(code),
}: SignalHandlers): () => void {
  let stopping = false
  let exited = false
  let reloadRunning = false
  let reloadPending = false
  let reloadDone: Promise<void> = Promise.resolve()

  // A real exit never returns; an injected one may, and must not be followed by a second exit.
  const exitOnce = (code: number) => {
    if (exited) return
    exited = true
    exit(code)
  }

  const runStop = async (signal: ShutdownSignal) => {
    log.info({ signal }, 'stopping')
    try {
      // A reload half done while stop closes the same clients would race it. (No further reload
      // starts: the reload loop checks `stopping`.)
      await reloadDone
      await stop(signal)
    } catch (error) {
      log.error({ err: error, signal }, 'stopping failed')
      exitOnce(1)
      return
    }
    log.info({ signal }, 'stopped')
    exitOnce(0)
  }

  const runReloads = async (reloadNow: () => Promise<void> | void) => {
    try {
      do {
        reloadPending = false
        log.info('reloading')
        try {
          await reloadNow()
          log.info('reloaded')
        } catch (error) {
          log.error({ err: error }, 'reload failed: still running with the previous state')
        }
      } while (reloadPending && !stopping)
    } finally {
      reloadRunning = false
    }
  }

  const onShutdownSignal = (signal: ShutdownSignal) => {
    if (stopping) {
      log.warn({ signal }, 'signal received while stopping: exiting now without finishing')
      exitOnce(1)
      return
    }
    stopping = true
    void runStop(signal)
  }

  const onHangup = () => {
    if (!reload) {
      log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: this service has nothing to reload')
      return
    }
    if (stopping) {
      log.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: stopping')
      return
    }
    if (reloadRunning) {
      reloadPending = true
      log.info({ signal: 'SIGHUP' }, 'reload already running: another follows it')
      return
    }
    reloadRunning = true
    reloadDone = runReloads(reload)
  }

  const listeners = [
    ['SIGTERM', () => onShutdownSignal('SIGTERM')],
    ['SIGINT', () => onShutdownSignal('SIGINT')],
    ['SIGHUP', onHangup],
  ] as const
  for (const [signal, listener] of listeners) target.on(signal, listener)
  return () => {
    for (const [signal, listener] of listeners) target.off(signal, listener)
  }
}
