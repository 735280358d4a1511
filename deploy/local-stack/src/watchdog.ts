import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

/**
 * Stops `pids` (SIGTERM, then SIGKILL) once `ownerPid` is gone, however it died
 * (bin/watchdog.sh). One per start: a process started again gets a watchdog of its own.
 */
export function watchProcesses(ownerPid: number, stateDir: string, pids: readonly number[]): void {
  if (pids.length === 0) return
  const watchdog = spawn(
    join(repoRoot, 'deploy/local-stack/bin/watchdog.sh'),
    [String(ownerPid), stateDir, ...pids.map(String)],
    { detached: true, stdio: 'ignore' },
  )
  watchdog.unref()
}
