/**
 * CPU accounting from Linux's /proc: what each process of a run used, per event and as a share of
 * the machine. Pure: the caller reads the files (cpuSnapshot.ts) and hands the text over.
 */

/**
 * User plus system time of a process, in clock ticks, from its `/proc/<pid>/stat` line (fields 14
 * and 15, all its threads). The command name (field 2) is in parentheses and may hold spaces and
 * parentheses itself, so fields are counted from the last `)`.
 */
export function processTicks(statLine: string): number {
  const end = statLine.lastIndexOf(')')
  const fields = statLine
    .slice(end + 1)
    .trim()
    .split(/\s+/)
  // After the name: state is field 3, so utime (14) and stime (15) are the 12th and 13th.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (end < 0 || !Number.isInteger(utime) || !Number.isInteger(stime)) {
    throw new Error(`not a /proc/<pid>/stat line: ${statLine.slice(0, 80)}`)
  }
  return utime + stime
}

/** The machine's CPU time since boot, all CPUs together, in clock ticks. */
export type MachineTicks = { busy: number; idle: number }

/**
 * The machine's ticks from `/proc/stat`'s `cpu` line: user nice system idle iowait irq softirq
 * steal (guest time is already counted in user). Idle is idle plus iowait.
 */
export function machineTicks(procStat: string): MachineTicks {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '))
  const values = (line ?? '').trim().split(/\s+/).slice(1, 9).map(Number)
  if (values.length < 8 || values.some((value) => !Number.isInteger(value))) {
    throw new Error(`no cpu line in /proc/stat: ${procStat.slice(0, 80)}`)
  }
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait }
}

/** A process to account for: its name in the tables and its PID. */
export type NamedProcess = { name: string; pid: number }

/** The machine's and each process's CPU ticks at one moment. */
export type CpuSnapshot = { machine: MachineTicks; processes: (NamedProcess & { ticks: number })[] }

/** A process's ticks at the start and at the end of the window. */
export type ProcessWindow = { name: string; pid: number; before: number; after: number }

/**
 * Each process of `after` with its ticks in both snapshots. Throws when one was not in `before`
 * under the same PID: a process restarted in the window has lost the CPU time of its first life.
 */
export function processWindows(before: CpuSnapshot, after: CpuSnapshot): ProcessWindow[] {
  return after.processes.map((p) => {
    const start = before.processes.find((b) => b.name === p.name && b.pid === p.pid)
    if (!start) throw new Error(`${p.name} (pid ${p.pid}) was not running when the window opened`)
    return { name: p.name, pid: p.pid, before: start.ticks, after: p.ticks }
  })
}

export type CpuRow = {
  name: string
  /** Undefined for the rows that are not one process (other processes, idle). */
  pid?: number
  cpuSeconds: number
  /** CPU µs per event; undefined for the rest of the machine and idle. */
  microsPerEvent?: number
  /** Share of all the machine's CPU time in the window, 0 to 1: the rows add up to 1. */
  share: number
}

/**
 * Where the machine's CPU time went over a window: a row per process, then the rest of the
 * machine's busy time ("other processes": kernel threads, whatever else runs) and its idle time,
 * so the shares add up to the whole. Per-event costs divide by `events`.
 */
export function cpuBreakdown(options: {
  processes: readonly ProcessWindow[]
  machineBefore: MachineTicks
  machineAfter: MachineTicks
  ticksPerSecond: number
  events: number
}): CpuRow[] {
  const { ticksPerSecond, events } = options
  const busy = options.machineAfter.busy - options.machineBefore.busy
  const idle = options.machineAfter.idle - options.machineBefore.idle
  const total = busy + idle
  if (total <= 0) throw new Error('the machine counted no CPU time in the window')
  const row = (name: string, ticks: number, pid?: number): CpuRow => ({
    name,
    ...(pid !== undefined && { pid }),
    cpuSeconds: ticks / ticksPerSecond,
    microsPerEvent: (ticks / ticksPerSecond / events) * 1e6,
    share: ticks / total,
  })
  const rows = options.processes.map((p) => row(p.name, Math.max(0, p.after - p.before), p.pid))
  const ours = rows.reduce((sum, r) => sum + r.cpuSeconds * ticksPerSecond, 0)
  // Ticks are sampled per process and per CPU apart: ours can pass the machine's busy by a tick or two.
  const others = Math.max(0, busy - ours)
  // Neither the rest of the machine nor idle time is a cost of the events.
  const { microsPerEvent: _, ...othersRow } = row('other processes (the rest of the machine)', others)
  const { microsPerEvent: __, ...idleRow } = row('idle', idle)
  return [...rows, othersRow, idleRow]
}

/** CPU µs per event of the rows whose names `belong`, added up. */
export function microsPerEventOf(rows: readonly CpuRow[], belong: (name: string) => boolean): number {
  return rows.filter((r) => belong(r.name)).reduce((sum, r) => sum + (r.microsPerEvent ?? 0), 0)
}
