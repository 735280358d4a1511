import type { IHeaders } from 'kafkajs'
import { temporalLevelHeader } from '@audit-pipeline/config'
import type { ReservedNamespace } from '@audit-pipeline/event-model'

export { temporalLevelHeader }

/**
 * Where a row goes. `trail`: `audit_events`, checked against the trail and chained (the default).
 * `latest`: `audit_record_latest`, one row per record, the newest change winning; no chain entry.
 */
export type RowTarget = 'trail' | 'latest'

/**
 * Where a record's row goes: `latest` only for exactly one `audit-temporal-level` header whose
 * value is `1`, on a topic of no reserved namespace. Anything else keeps the full history,
 * the side to err on: a header repeated, or with another value, is not a request to drop it,
 * and alerts and access records (SINK_ALERT_TOPICS, SINK_ACCESS_TOPICS) are the pipeline's own
 * security records, always chained. Pure.
 */
export function rowTargetOf(headers: IHeaders, topicNamespace: ReservedNamespace | undefined): RowTarget {
  if (topicNamespace !== undefined) return 'trail'
  const value = headers[temporalLevelHeader]
  if (value === undefined || Array.isArray(value)) return 'trail'
  return value.toString() === '1' ? 'latest' : 'trail'
}

/**
 * A batch's rows by where they are written, each in batch order: `trail` for `audit_events` and
 * the chain, `latest` for `audit_record_latest`. A `latest` row whose event `audit_events`
 * holds already (`eventStored`: written there by a sink from before this split, and read again
 * before its commit) is in both: the chain covers whatever `audit_events` keeps, so it is chained
 * there, and the latest-state table gets it too. Pure.
 */
export function splitByTarget<Row extends { readonly target: RowTarget; readonly eventStored: boolean }>(
  rows: readonly Row[],
): { trail: Row[]; latest: Row[] } {
  const split: { trail: Row[]; latest: Row[] } = { trail: [], latest: [] }
  for (const row of rows) {
    if (row.target === 'trail' || row.eventStored) split.trail.push(row)
    if (row.target === 'latest') split.latest.push(row)
  }
  return split
}
