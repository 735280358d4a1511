import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'

export type Measured = {
  seconds: number
  /** CPU time of this whole process (user + system) while it ran, seconds. */
  cpuSeconds: number
  /** Share of the time the event loop was running JavaScript rather than waiting for I/O, 0 to 1. */
  eventLoopBusy: number
  /** Share of all this machine's CPUs in use while it ran (broker and registry included), 0 to 1. */
  machineBusy: number
}

/** Wall time, process CPU time and event-loop utilisation of `run`. */
export async function measured(run: () => Promise<void>): Promise<Measured> {
  const cpu = process.cpuUsage()
  const machine = machineTimes()
  const loop = performance.eventLoopUtilization()
  const started = performance.now()
  await run()
  const seconds = (performance.now() - started) / 1000
  const { user, system } = process.cpuUsage(cpu)
  const { idle, total } = machineTimes()
  return {
    seconds,
    cpuSeconds: (user + system) / 1e6,
    eventLoopBusy: performance.eventLoopUtilization(loop).utilization,
    machineBusy: 1 - (idle - machine.idle) / (total - machine.total),
  }
}

/** Milliseconds all CPUs spent idle and in all, since boot. */
function machineTimes(): { idle: number; total: number } {
  let idle = 0
  let total = 0
  for (const { times } of cpus()) {
    idle += times.idle
    total += times.user + times.nice + times.sys + times.idle + times.irq
  }
  return { idle, total }
}
