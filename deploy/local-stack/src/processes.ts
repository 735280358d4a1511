import { spawn } from 'node:child_process'
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { isAlive, type LaunchCommand } from '@audit-pipeline/stack-state'

/** How a process ended: its exit code, or the signal that ended it. */
export type ExitStatus = { code: number | null; signal: NodeJS.Signals | null }

export type LaunchedProcess = {
  pid: number
  logFile: string
  /** The command, kept so the process can be started again the same way. */
  launch: LaunchCommand
  /** Settles when the process ends (for any reason), so a supervisor hears of it at once. */
  exited: Promise<ExitStatus>
}

/**
 * Starts a long-running program in its own process group, output appended to `logFile`.
 * Its own group, so a Ctrl-C in the terminal reaches our stop sequence first instead of
 * killing the broker mid-way; stopping is always done by PID (stopProcess).
 */
export function launch(
  command: string,
  args: readonly string[],
  options: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
): LaunchedProcess {
  const log = openSync(options.logFile, 'a')
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    })
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }))
      // A spawn failure (ENOENT, EACCES) comes as 'error' without 'exit'; it is also why pid is unset.
      child.once('error', () => resolve({ code: null, signal: null }))
    })
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    child.unref()
    return {
      pid: child.pid,
      logFile: options.logFile,
      launch: { command, args: [...args], cwd: options.cwd },
      exited,
    }
  } finally {
    closeSync(log)
  }
}

/** SIGTERM, wait up to `deadlineMs` for a clean exit, then SIGKILL. Resolves once it is gone. */
export async function stopProcess(
  pid: number,
  deadlineMs = 20_000,
): Promise<'stopped' | 'killed' | 'not running'> {
  if (!isAlive(pid)) return 'not running'
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped'
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 50))
  return 'killed'
}

/** The last `lines` lines of a log file, for error messages when a component fails to start. */
export function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** The last `maxBytes` of a log file ('' when there is none): a JVM's log can be large. */
export function logTail(file: string, maxBytes = 64 * 1024): string {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    return ''
  }
  try {
    const { size } = fstatSync(fd)
    const length = Math.min(size, maxBytes)
    const buffer = Buffer.alloc(length)
    readSync(fd, buffer, 0, length, size - length)
    return buffer.toString('utf8')
  } finally {
    closeSync(fd)
  }
}
