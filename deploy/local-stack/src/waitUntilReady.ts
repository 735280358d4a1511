import { isAlive } from '@audit-pipeline/stack-state'
import { tailOf } from './processes.js'

/**
 * Polls `probe` until it answers true. Fails fast, with the end of the component's log, when its
 * process exits instead of becoming ready, and after `timeoutMs` when it never does.
 */
export async function waitUntilReady(options: {
  what: string
  pid: number
  logFile: string
  timeoutMs: number
  probe: () => Promise<boolean>
  intervalMs?: number
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (await options.probe()) return
    if (!isAlive(options.pid)) {
      throw new Error(
        `${options.what} exited while starting; end of ${options.logFile}:\n${tailOf(options.logFile)}`,
      )
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} was not ready after ${options.timeoutMs / 1000} s; end of ${options.logFile}:\n${tailOf(options.logFile)}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250))
  }
}
