import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'

export type LaunchedProcess = { pid: number; logFile: string }

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
    if (child.pid === undefined) throw new Error(`could not start ${command}`)
    child.unref()
    return { pid: child.pid, logFile: options.logFile }
  } finally {
    closeSync(log)
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but is not ours, which for our purposes means "not the process we started".
    return false
  }
}

/**
 * True when `pid` is alive and its command line mentions `marker` (the stack's state folder),
 * so a PID the OS has since given to an unrelated program is never mistaken for ours.
 */
export function isOurProcess(pid: number, marker: string): boolean {
  if (!isAlive(pid)) return false
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
  } catch {
    // No /proc (macOS): fall back to liveness alone.
    return process.platform !== 'linux'
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
