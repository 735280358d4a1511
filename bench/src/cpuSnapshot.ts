import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { machineTicks, processTicks, type CpuSnapshot, type NamedProcess } from './cpuAccounting.js'

/** Clock ticks per second of /proc's times (USER_HZ): `getconf CLK_TCK`, 100 on every Linux we know of. */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
}

/** Reads /proc/stat and each process's /proc/<pid>/stat; throws naming a process that is gone. */
export function takeCpuSnapshot(processes: readonly NamedProcess[]): CpuSnapshot {
  return {
    machine: machineTicks(readFileSync('/proc/stat', 'utf8')),
    processes: processes.map((p) => {
      let line: string
      try {
        line = readFileSync(`/proc/${p.pid}/stat`, 'utf8')
      } catch (error) {
        throw new Error(`${p.name} (pid ${p.pid}) is gone: its CPU time cannot be read`, { cause: error })
      }
      return { ...p, ticks: processTicks(line) }
    }),
  }
}
