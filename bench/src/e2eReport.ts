import type { CpuRow } from './cpuAccounting.js'
import { formatTable } from './table.js'

/** What the pipeline must do end to end on this machine, against Kafka alone. */
export const e2eTarget = { vsProducerCeiling: 0.25 } as const

const perSecond = (value: number) => Math.round(value).toLocaleString('en-US')

/**
 * The target line. A run that failed the correctness gate has no throughput figure to judge: it
 * misses the target whatever its speed.
 */
export function e2eTargetLine(run: {
  gatePassed: boolean
  eventsPerSecond?: number
  ceilingRecordsPerSecond: number
}): string {
  const target = `target: end to end: at least ${e2eTarget.vsProducerCeiling}x Kafka's producer ceiling, with the correctness gate`
  if (!run.gatePassed || run.eventsPerSecond === undefined) {
    return `${target}: MISSED (the correctness gate failed: no throughput figure)`
  }
  const ratio = run.eventsPerSecond / run.ceilingRecordsPerSecond
  return (
    `${target}: ${ratio >= e2eTarget.vsProducerCeiling ? 'met' : 'MISSED'} (${ratio.toFixed(2)}x: ` +
    `${perSecond(run.eventsPerSecond)} events/s against ${perSecond(run.ceilingRecordsPerSecond)} records/s)`
  )
}

/** "Where the machine's CPUs went": a row per process, then the rest of the machine and idle; shares add up to 100%. */
export function cpuTable(rows: readonly CpuRow[], cpus: number): string {
  return formatTable(
    ['process', 'pid', 'CPU s', 'CPU µs/event', `share of the ${cpus} CPUs`],
    rows.map((row) => [
      row.name,
      row.pid === undefined ? '' : String(row.pid),
      row.cpuSeconds.toFixed(1),
      row.microsPerEvent === undefined ? '' : row.microsPerEvent.toFixed(1),
      `${(row.share * 100).toFixed(1)}%`,
    ]),
  )
}
