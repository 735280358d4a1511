import { allFindings, type ChainVerification, type TrailReport } from '@audit-pipeline/verification'
import type { Listing } from './queryOutput.js'

/** Where the trail was compared with the checkpoints topic, or why it was not. */
export type TopicComparison = { topic: string } | { topic: null; why: string }

const count = (value: number) => value.toLocaleString('en-US')
const plural = (value: number, one: string, many = `${one}s`) => `${count(value)} ${value === 1 ? one : many}`

/** The summary `verify` prints before its findings: what was verified, from where, how fast. */
export function verifySummaryLines(report: TrailReport, comparison: TopicComparison): string[] {
  const { totals } = report
  const tenants = report.tenants.length <= 5 ? ` (${report.tenants.join(', ')})` : ''
  const range = [
    report.range.since === null ? '' : ` since ${report.range.since}`,
    report.range.until === null ? '' : ` until ${report.range.until}`,
  ].join('')
  const lines = [
    `Verified ${plural(totals.tenants, 'tenant')}${tenants}, ${plural(totals.chains, 'chain')}${range}: ${plural(totals.entries, 'entry', 'entries')}, ${plural(totals.events, 'stored event')}, ${plural(totals.checkpoints, 'checkpoint')}; ${plural(totals.expired, 'event')} expired by retention.`,
  ]
  const cut = report.chains.filter((chain) => chain.start.reason !== 'chain-start')
  if (cut.length > 0) {
    lines.push('Chains verified from a later start:')
    for (const chain of cut) lines.push(`  ${chain.tenant} ${chain.chain}: ${startText(chain)}`)
  }
  if (report.eventsFrom !== null) {
    lines.push(
      `Stored events read from occurred_at ${report.eventsFrom} on (the earliest an entry in the range records).`,
    )
  }
  lines.push(
    comparison.topic === null
      ? `Not compared with the checkpoints topic (${comparison.why}): storage rolled back to an older copy would not be found. Set KAFKA_BROKERS, or pass --checkpoints-topic.`
      : `Checkpoints topic ${comparison.topic}: ${plural(report.checkpointsCompared ?? 0, 'checkpoint')} compared with storage.`,
  )
  lines.push(
    `Took ${totals.seconds.toFixed(1)} s: ${count(totals.eventsPerSecond)} events/s (${totals.threads === 0 ? 'no worker threads' : plural(totals.threads, 'worker thread')}).`,
  )
  const findings = totals.findings + totals.findingsOmitted
  lines.push(
    findings === 0
      ? 'INTACT: no findings.'
      : `NOT INTACT: ${plural(findings, 'finding')}${totals.findingsOmitted > 0 ? ` (${count(totals.findingsOmitted)} counted but not listed)` : ''}.`,
  )
  return lines
}

function startText(chain: ChainVerification): string {
  const { start } = chain
  const at =
    start.checkpointSeq === null ? `seq ${start.seq}` : `checkpoint ${start.checkpointSeq} (seq ${start.seq})`
  switch (start.reason) {
    case 'retention':
      return `from ${at}: the checkpoints and entries before it are gone with retention`
    case 'since':
      return `from ${at}: the first checkpoint made at or after --since`
    case 'chain-start':
      return `from ${at}`
  }
}

/** Every finding, one row each: kind, tenant, chain, seq, checkpoint, event id, detail. */
export function findingsListing(report: TrailReport): Listing {
  return {
    header: ['KIND', 'TENANT', 'CHAIN', 'SEQ', 'CHECKPOINT', 'EVENT ID', 'DETAIL'],
    rows: allFindings(report).map((finding) => [
      finding.kind,
      finding.tenant,
      finding.chain,
      finding.seq === undefined ? '' : String(finding.seq),
      finding.checkpoint_seq === undefined ? '' : String(finding.checkpoint_seq),
      finding.event_id ?? '',
      finding.detail,
    ]),
  }
}
