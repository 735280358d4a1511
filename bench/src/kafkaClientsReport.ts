import type { KafkaClientName } from './kafkaClientsContenders.js'
import type { DeliveryCheck } from './kafkaClientsDelivery.js'
import type { GuaranteeResult } from './kafkaClientsGuarantees.js'

/**
 * The `kafka-clients` section's tables and its verdict, from what the runs measured. Pure.
 *
 * The decision rule (issue 18): kafkajs stays unless another client is at least 1.5× faster end
 * to end, on the producer path and on the normalizer path, with every guarantee we rely on.
 */
export const requiredSpeedup = 1.5

export const pathNames = ['producer', 'normalizer'] as const
export type PathName = (typeof pathNames)[number]

export type RunOutcome =
  | {
      kind: 'measured'
      events: number
      seconds: number
      cpuSeconds: number
      startupSeconds?: number
      delivery: DeliveryCheck
    }
  /** Not run: the client could not be installed or loaded, or cannot run on this Node.js. */
  | { kind: 'unavailable'; reason: string }
  /** Ran and failed before it could be checked. */
  | { kind: 'failed'; reason: string }

export type RunRow = {
  client: KafkaClientName
  /** The client's version as loaded, when it was. */
  version?: string
  path: PathName
  /** How the path was driven (e.g. "1 send at a time"); rows of one path and variant are compared. */
  variant: string
  outcome: RunOutcome
}

/** Events per second of a run that passed its check; undefined otherwise (a failing run shows no throughput). */
export function passingRate(outcome: RunOutcome): number | undefined {
  if (outcome.kind !== 'measured' || !outcome.delivery.passed) return undefined
  return outcome.events / outcome.seconds
}

/** The best passing rate of `client` on `path`, over its variants. */
export function bestRate(
  rows: readonly RunRow[],
  client: KafkaClientName,
  path: PathName,
): number | undefined {
  const rates = rows
    .filter((row) => row.client === client && row.path === path)
    .map((row) => passingRate(row.outcome))
    .filter((rate): rate is number => rate !== undefined)
  return rates.length > 0 ? Math.max(...rates) : undefined
}

/** A table's header and lines for one path: each run beside kafkajs's run of the same variant. */
export function pathTable(rows: readonly RunRow[], path: PathName): { header: string[]; lines: string[][] } {
  const ofPath = rows.filter((row) => row.path === path)
  const header = [
    'client',
    'how',
    'events/s',
    'CPU µs/event',
    'vs kafkajs',
    'seconds',
    ...(path === 'normalizer' ? ['join+first fetch s'] : []),
    'check',
  ]
  const lines = ofPath.map((row) => {
    const name = row.version ? `${row.client} ${row.version}` : row.client
    const { outcome } = row
    if (outcome.kind !== 'measured') {
      const blanks = Array<string>(header.length - 3).fill('-')
      return [name, row.variant, ...blanks, `${outcome.kind.toUpperCase()}: ${outcome.reason}`]
    }
    const rate = passingRate(outcome)
    const baseline = ofPath.find((other) => other.client === 'kafkajs' && other.variant === row.variant)
    const baselineRate = baseline && passingRate(baseline.outcome)
    const check = outcome.delivery.passed ? 'passed' : `FAILED: ${outcome.delivery.problems.join('; ')}`
    return [
      name,
      row.variant,
      rate === undefined ? '-' : Math.round(rate).toLocaleString('en-US'),
      rate === undefined ? '-' : ((outcome.cpuSeconds / outcome.events) * 1e6).toFixed(1),
      rate === undefined || baselineRate === undefined ? '-' : `${(rate / baselineRate).toFixed(2)}x`,
      outcome.seconds.toFixed(2),
      ...(path === 'normalizer'
        ? [outcome.startupSeconds === undefined ? '-' : outcome.startupSeconds.toFixed(2)]
        : []),
      check,
    ]
  })
  return { header, lines }
}

export type ClientVerdict = {
  client: KafkaClientName
  /** Best passing rate over kafkajs's best passing rate, per path. */
  speedups: Partial<Record<PathName, number>>
  failedGuarantees: string[]
  /** True when every guarantee was checked and held, and both paths are at least requiredSpeedup. */
  qualifies: boolean
  reasons: string[]
}

/** Whether each contender would replace kafkajs under the rule, and why (not). */
export function verdicts(
  rows: readonly RunRow[],
  guarantees: ReadonlyMap<KafkaClientName, readonly GuaranteeResult[] | { unavailable: string }>,
  contenderNames: readonly KafkaClientName[],
): ClientVerdict[] {
  return contenderNames.map((client) => {
    const reasons: string[] = []
    const speedups: Partial<Record<PathName, number>> = {}
    for (const path of pathNames) {
      const mine = bestRate(rows, client, path)
      const theirs = bestRate(rows, 'kafkajs', path)
      if (mine === undefined) reasons.push(`no passing ${path} run`)
      else if (theirs === undefined) reasons.push(`no passing kafkajs ${path} run to compare with`)
      else {
        const speedup = mine / theirs
        speedups[path] = speedup
        if (speedup < requiredSpeedup) {
          reasons.push(`${path} path ${speedup.toFixed(2)}x kafkajs (needs ${requiredSpeedup.toFixed(1)}x)`)
        }
      }
    }
    const checked = guarantees.get(client)
    const failedGuarantees =
      checked === undefined
        ? ['not checked']
        : 'unavailable' in checked
          ? [`not checked: ${checked.unavailable}`]
          : checked.filter((result) => !result.passed).map((result) => result.guarantee)
    if (failedGuarantees.length > 0) reasons.push(`guarantees not shown: ${failedGuarantees.join(', ')}`)
    return { client, speedups, failedGuarantees, qualifies: reasons.length === 0, reasons }
  })
}
