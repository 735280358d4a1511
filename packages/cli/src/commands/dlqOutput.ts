import type {
  DeadLetter,
  DeadLetterFormatError,
  DeadLetterListing,
  ReplayResult,
} from '@audit-pipeline/dead-letter'
import { terminalSafe } from './terminalText.js'

/** The narrowest the message column gets, however wide the other columns. */
const minMessageChars = 20

/**
 * The dead letters as an aligned table, one line each; the message column gets what
 * `widthChars` leaves and is cut with an ellipsis. Control characters and bidi overrides (a
 * message often quotes the rejected input) are shown escaped (terminalText.ts).
 */
export function deadLetterTable(deadLetters: DeadLetter[], widthChars: number): string[] {
  const header = ['DLQ', 'FAILED AT', 'SERVICE', 'CLASS/REASON', 'SOURCE', 'BYTES']
  const rows = deadLetters.map((d) =>
    [
      `${d.dlq.partition}/${d.dlq.offset}`,
      d.failedAt.toISOString(),
      d.service,
      d.reason === undefined ? d.errorClass : `${d.errorClass}/${d.reason}`,
      `${d.source.topic}/${d.source.partition}/${d.source.offset}`,
      d.value === null ? 'null' : String(d.value.length),
    ].map(terminalSafe),
  )
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const gap = '  '
  const fixedChars = widths.reduce((sum, w) => sum + w + gap.length, 0)
  const messageChars = Math.max(minMessageChars, widthChars - fixedChars)
  const line = (cells: string[], message: string) =>
    [...cells.map((c, i) => c.padEnd(widths[i] ?? 0)), truncateChars(message, messageChars)]
      .join(gap)
      .trimEnd()
  return [
    line(header, 'MESSAGE'),
    ...rows.map((cells, i) => line(cells, terminalSafe(deadLetters[i]?.message ?? ''))),
  ]
}

/**
 * One JSON object per dead letter. Key, value and headers are base64: audit payloads are often
 * Avro, and the bytes must survive the trip to be re-sent or inspected.
 */
export function deadLetterJson(d: DeadLetter): string {
  const base64 = (b: Buffer | string) => (typeof b === 'string' ? Buffer.from(b) : b).toString('base64')
  return JSON.stringify({
    dlq: d.dlq,
    failedAt: d.failedAt.toISOString(),
    service: d.service,
    errorClass: d.errorClass,
    reason: d.reason ?? null,
    message: d.message,
    source: d.source,
    keyBase64: d.key === null ? null : d.key.toString('base64'),
    valueBase64: d.value === null ? null : d.value.toString('base64'),
    headersBase64: Object.fromEntries(
      Object.entries(d.originalHeaders).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, Array.isArray(value) ? value.map(base64) : base64(value)]],
      ),
    ),
  })
}

/** What the listing holds beyond its rows: how many, whether the limit cut it, foreign messages. */
export function listingSummary(
  listing: DeadLetterListing,
  topic: string,
  limit: number,
  filtered: boolean,
): string[] {
  const count = listing.deadLetters.length
  const what = `${count} dead letter(s)${filtered ? ' matching' : ''} in ${topic}`
  return [
    listing.limited ? `${what}; more match: raise --limit (now ${limit})` : what,
    ...unreadableLines(listing.unreadable, topic, 'listed'),
  ]
}

/** What a replay sent, per target topic, and whether the next replay will send it again. */
export function replaySummary(result: ReplayResult, topic: string, groupId: string): string[] {
  const targets = Object.entries(result.byTarget).sort(([a], [b]) => a.localeCompare(b))
  const verb = result.dryRun ? 'dry run: would re-send' : 're-sent'
  return [
    `${verb} ${result.replayed} dead letter(s) from ${topic}${targets.length > 0 ? ':' : ''}`,
    ...targets.map(([target, count]) => `  ${count} to ${target}`),
    ...(result.skipped > 0 ? [`skipped ${result.skipped} not matching the filter`] : []),
    ...unreadableLines(result.unreadable, topic, 'replayed'),
    ...(result.dryRun
      ? []
      : result.progressRemembered
        ? [`remembered in consumer group ${groupId}: the next replay starts after these`]
        : ['not remembered (a filter selects what is replayed): the same replay would send these again']),
  ]
}

function unreadableLines(unreadable: DeadLetterFormatError[], topic: string, verb: string): string[] {
  if (unreadable.length === 0) return []
  return [
    `${unreadable.length} message(s) in ${topic} are not dead letters and were not ${verb}:`,
    ...unreadable.map((e) => `  ${e.location.partition}/${e.location.offset}: ${e.problems.join('; ')}`),
  ]
}

function truncateChars(text: string, maxChars: number): string {
  const chars = Array.from(text)
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`
}
