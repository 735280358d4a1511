import type { InputPartitionOutcome } from './handledInput.js'
import { residencyLine, type InputResidency } from './inputResidency.js'

/** What `erase` did, step by step; null where a step did not happen. */
export type EraseReport = {
  tenant: string
  /** SHA-256 (hex) of tenant NUL subject: how the erasure names the subject, never by itself. */
  subjectDigest: string
  erasedAt: string | null
  /** The data keys destroyed; empty when the subject had none. */
  keysDestroyed: string[] | null
  erasureEvent: { eventId: string; topic: string } | null
  inputRecords: InputPartitionOutcome[]
  /** What bounds how long the removed input's bytes stay on the brokers' disks, per topic removed from. */
  inputResidency: InputResidency[]
  /** What went wrong, each said with what it left undone; empty when everything was done. */
  failures: string[]
}

/** The report as people read it: the subject by its digest, then each step. */
export function eraseSummary(report: EraseReport, normalizerGroup: string): string[] {
  const lines = [`Data subject ${report.subjectDigest} of tenant ${report.tenant}:`]
  const keys = report.keysDestroyed
  lines.push(
    keys === null
      ? '  keys destroyed:   none (not erased)'
      : keys.length === 0
        ? '  keys destroyed:   none held (nothing was sealed for this subject since its last erasure, if ever)'
        : `  keys destroyed:   ${keys.length} (${keys.join(', ')}) at ${report.erasedAt}: their values read [erased] from now on`,
  )
  lines.push(
    report.erasureEvent
      ? `  erasure recorded: event ${report.erasureEvent.eventId} (subject.erase) on ${report.erasureEvent.topic}`
      : '  erasure recorded: no',
  )
  if (report.inputRecords.length > 0) {
    lines.push(`  input records the normalizer (group ${normalizerGroup}) has handled:`)
    for (const outcome of report.inputRecords) lines.push(`    ${inputLine(outcome, normalizerGroup)}`)
    const removed = report.inputRecords.reduce((sum, o) => sum + (o.status === 'removed' ? o.count : 0), 0)
    const topics = [...new Set(report.inputRecords.map((o) => o.topic))]
    lines.push(`  ${removed} input record(s) removed from ${topics.join(', ')}`)
    for (const residency of report.inputResidency) lines.push(`    ${residencyLine(residency)}`)
  }
  return lines
}

function inputLine(outcome: InputPartitionOutcome, group: string): string {
  const where = `${outcome.topic}[${outcome.partition}]`
  switch (outcome.status) {
    case 'removed':
      return `${where}: removed ${outcome.count} record(s), offsets ${outcome.fromOffset} to ${BigInt(outcome.committedOffset) - 1n}`
    case 'nothing-to-remove':
      return `${where}: nothing to remove (committed offset ${outcome.committedOffset}, earliest record ${outcome.earliestOffset})`
    case 'no-committed-offset':
      return `${where}: left as is: ${group} has no committed offset here`
    case 'committed-beyond-end':
      return `${where}: left as is: the committed offset ${outcome.committedOffset} is past the end (${outcome.endOffset}); was the topic recreated?`
    case 'failed':
      return `${where}: NOT removed (committed offset ${outcome.committedOffset}): ${outcome.error}`
  }
}

/** The report as one JSON object, for `--json`. */
export function eraseJson(report: EraseReport): string {
  const recordsRemoved = report.inputRecords.reduce(
    (sum, o) => sum + (o.status === 'removed' ? o.count : 0),
    0,
  )
  return JSON.stringify({ ...report, recordsRemoved })
}
