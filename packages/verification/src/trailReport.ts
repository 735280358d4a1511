import type { Finding } from '@audit-pipeline/integrity'
import type { ChainVerification } from './chainCheck.js'

/** What verifyTrail found. `intact` is true when no finding of any kind was made. */
export type TrailReport = {
  /** When the trail was verified (the nowMs given), ISO-8601. */
  verifiedAt: string
  /** The stored-time range asked for, ISO-8601 (null: unbounded). */
  range: { since: string | null; until: string | null }
  tenants: string[]
  chains: ChainVerification[]
  /** Stored events that no chain entry records. */
  inserted: Finding[]
  /** Checkpoints of the other copy that storage lacks or holds differently. */
  rolledBack: Finding[]
  /** The checkpoints of the other copy compared (null: no other copy was given). */
  checkpointsCompared: number | null
  /**
   * With `since`: stored events were checked from this occurred_at on (the earliest event an
   * entry in the range records); events before it were not read. Null: all were.
   */
  eventsFrom: string | null
  totals: TrailTotals
  intact: boolean
}

export type TrailTotals = {
  tenants: number
  chains: number
  /** Entries verified. */
  entries: number
  /** Distinct stored events read. */
  events: number
  /** Stored checkpoints verified. */
  checkpoints: number
  /** Entries whose events retention removed. */
  expired: number
  findings: number
  /** Findings counted but not kept (past 1,000 per chain, and 1,000 inserted events per tenant). */
  findingsOmitted: number
  /** Worker threads used (0: the calling thread did the work). */
  threads: number
  /** How long verification took, and events per second over it. */
  seconds: number
  eventsPerSecond: number
}

/** Every finding of a report, chains first, in the order found. */
export function allFindings(report: Pick<TrailReport, 'chains' | 'inserted' | 'rolledBack'>): Finding[] {
  return [...report.chains.flatMap((chain) => chain.findings), ...report.inserted, ...report.rolledBack]
}
