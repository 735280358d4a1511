import type { ProcessExit, SupervisedProcessStatus } from '@audit-pipeline/stack-state'
import { lastErrorLine } from './logErrorLine.js'
import { logTail, type ExitStatus, type LaunchedProcess } from './processes.js'
import { decideRestart, noRestartsYet, type RestartPolicy, type RestartRecord } from './restartPolicy.js'

/** The supervisor's time and timers, injected so a test moves time on instead of sleeping. */
export type SupervisorClock = {
  now(): number
  setTimeout(run: () => void, delayMs: number): unknown
  clearTimeout(timer: unknown): void
}

export const systemClock: SupervisorClock = {
  now: () => Date.now(),
  setTimeout: (run, delayMs) => setTimeout(run, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
}

/** A process the supervisor restarts when it exits. */
export type SupervisedSpec = {
  name: string
  logFile: string
  /** Starts it again with the same command, ports and files; throws when it cannot. */
  restart(): LaunchedProcess
  /** False once it must not be restarted any more (its stack was stopped by `audit-stack down`). */
  wanted?(): boolean
}

export type Supervisor = {
  /** Supervises a process that was just started. */
  watch(spec: SupervisedSpec, launched: LaunchedProcess): void
  /** Its current PID, or undefined while it waits for a restart (or was given up on). */
  pidOf(name: string): number | undefined
  statuses(): SupervisedProcessStatus[]
  /**
   * From now on an exit is expected (shutdown): nothing is restarted and pending restarts are
   * cancelled. The caller then stops every process by the PIDs it reads afterwards.
   */
  stop(): void
}

type Entry = {
  spec: SupervisedSpec
  status: SupervisedProcessStatus
  record: RestartRecord
  startedAtMs: number
  timer?: unknown
}

/**
 * Restarts whatever `npm start` started when it exits unexpectedly, with the backoff of
 * restartPolicy.ts, and says so through `report` (one line per exit and per restart, with the exit
 * code or signal, the restart number and the last error line of the process's log). Every change
 * goes to `onChange`, which `npm start` writes where `audit-stack status` reads it.
 */
export function createSupervisor(options: {
  policy: RestartPolicy
  report: (line: string) => void
  onChange?: (statuses: SupervisedProcessStatus[]) => void
  clock?: SupervisorClock
  /** The last error line of a log file; by default read from the end of the file. */
  errorLineOf?: (logFile: string) => string | undefined
}): Supervisor {
  const clock = options.clock ?? systemClock
  const errorLineOf = options.errorLineOf ?? ((file: string) => lastErrorLine(logTail(file)))
  const entries = new Map<string, Entry>()
  let stopped = false

  // The supervisor runs in `npm start` itself: a failure here must be said, never crash it.
  const guarded = (what: string, run: () => void) => {
    try {
      run()
    } catch (error) {
      options.report(`supervisor: ${what} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const changed = () => guarded('recording the processes’ state', () => options.onChange?.(statuses()))
  const statuses = () => [...entries.values()].map((entry) => ({ ...entry.status }))

  function follow(entry: Entry, launched: LaunchedProcess): void {
    entry.startedAtMs = clock.now()
    entry.status = {
      name: entry.spec.name,
      state: 'running',
      pid: launched.pid,
      restarts: entry.record.restarts,
      logFile: launched.logFile,
      ...(entry.status.lastExit && { lastExit: entry.status.lastExit }),
      ...(entry.status.lastErrorLine && { lastErrorLine: entry.status.lastErrorLine }),
    }
    void launched.exited.then((exit) =>
      guarded(`handling ${entry.spec.name}'s exit`, () => exited(entry, launched.pid, exit)),
    )
  }

  function exited(entry: Entry, pid: number, exit: ExitStatus): void {
    // Exits during shutdown are the shutdown's; the caller stops whatever is left by PID.
    if (stopped || entry.status.pid !== pid) return
    const exitedAtMs = clock.now()
    const lastExit: ProcessExit = {
      code: exit.code,
      signal: exit.signal,
      at: new Date(exitedAtMs).toISOString(),
    }
    const errorLine = errorLineOf(entry.spec.logFile)
    const how = `${entry.spec.name} (pid ${pid}) ${describeExit(exit)}`
    const lastError = errorLine ? `; last error: ${errorLine}` : ''
    const { pid: _, ...rest } = entry.status
    entry.status = { ...rest, lastExit, ...(errorLine && { lastErrorLine: errorLine }) }
    scheduleRestart(entry, how, lastError, { startedAtMs: entry.startedAtMs, exitedAtMs })
  }

  function scheduleRestart(
    entry: Entry,
    how: string,
    lastError: string,
    run: { startedAtMs: number; exitedAtMs: number },
  ): void {
    if (entry.spec.wanted?.() === false) {
      entry.status = { ...entry.status, state: 'stopped' }
      options.report(`${how}; its stack was stopped meanwhile, so it is not restarted${lastError}`)
      return changed()
    }
    const decision = decideRestart(options.policy, entry.record, run)
    entry.record = decision.record
    if (decision.action === 'give up') {
      entry.status = { ...entry.status, state: 'gave up' }
      options.report(`${how}; not restarting it: ${decision.reason}${lastError}`)
      return changed()
    }
    const restart = decision.record.restarts
    entry.status = {
      ...entry.status,
      state: 'restarting',
      nextRestartAt: new Date(run.exitedAtMs + decision.delayMs).toISOString(),
    }
    options.report(`${how}; restart ${restart} in ${formatDelay(decision.delayMs)}${lastError}`)
    entry.timer = clock.setTimeout(
      () => guarded(`restarting ${entry.spec.name}`, () => restartNow(entry)),
      decision.delayMs,
    )
    changed()
  }

  function restartNow(entry: Entry): void {
    entry.timer = undefined
    if (stopped) return
    let launched: LaunchedProcess
    try {
      launched = entry.spec.restart()
    } catch (error) {
      // Could not even start it (its stack gone, a port taken): the same backoff as an exit.
      const now = clock.now()
      const message = error instanceof Error ? error.message : String(error)
      entry.status = { ...entry.status, lastErrorLine: message }
      return scheduleRestart(entry, `${entry.spec.name} could not be restarted`, `: ${message}`, {
        startedAtMs: now,
        exitedAtMs: now,
      })
    }
    const { nextRestartAt: _, ...rest } = entry.status
    entry.status = rest
    follow(entry, launched)
    options.report(`${entry.spec.name} restarted as pid ${launched.pid} (restart ${entry.record.restarts})`)
    changed()
  }

  return {
    watch(spec, launched) {
      if (stopped) return
      const entry: Entry = {
        spec,
        record: noRestartsYet,
        startedAtMs: 0,
        status: { name: spec.name, state: 'running', restarts: 0, logFile: launched.logFile },
      }
      entries.set(spec.name, entry)
      follow(entry, launched)
      changed()
    },
    pidOf: (name) => entries.get(name)?.status.pid,
    statuses,
    stop() {
      if (stopped) return
      stopped = true
      for (const entry of entries.values()) {
        if (entry.timer !== undefined) clock.clearTimeout(entry.timer)
        entry.timer = undefined
        if (entry.status.state === 'restarting') {
          const { nextRestartAt: _, ...rest } = entry.status
          entry.status = { ...rest, state: 'stopped' }
        }
      }
      changed()
    },
  }
}

/** "exited with code 1", "was killed by SIGKILL". */
export function describeExit(exit: ExitStatus): string {
  if (exit.signal) return `was killed by ${exit.signal}`
  if (exit.code !== null) return `exited with code ${exit.code}`
  return 'could not be started'
}

function formatDelay(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000} s` : `${(ms / 1_000).toFixed(1)} s`
}
