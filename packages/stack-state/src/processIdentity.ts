import { readFileSync } from 'node:fs'

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
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
