import type {
  DeadLetter,
  DeadLetterFormatError,
  DeadLetterListing,
  DeadLetterOpening,
  RefusedDeadLetter,
  ReplayResult,
} from '@audit-pipeline/dead-letter'
import { erasedValue } from '@audit-pipeline/event-model'
import { unreadableValue } from '@audit-pipeline/field-encryption'
import { terminalSafe } from './terminalText.js'

/** What a listing knows of a sealed dead letter: what opening it gave, or that there was no key store to try. */
export type SealedView = DeadLetterOpening | { readonly state: 'not-opened'; readonly keyId: string }

/** A dead letter as listed: a sealed one with what its opening gave. */
export type ListedDeadLetter = DeadLetter & { opening?: SealedView }

/** The SEALED column: what a reader of the table can do with the dead letter's value. */
function sealedCell(d: ListedDeadLetter): string {
  if (d.sealed === undefined) return '-'
  switch (d.opening?.state) {
    case 'opened':
      return 'opened'
    case 'erased':
      return erasedValue
    case 'unreadable':
      return unreadableValue
    case 'unknown-key':
      return '[unknown key]'
    default:
      return 'sealed'
  }
}

/** The original value: the opened one for a sealed dead letter that opened, else the one stored. */
function valueOf(d: ListedDeadLetter): Buffer | null {
  return d.opening?.state === 'opened' ? d.opening.value : d.value
}

/** The error message: a sealed dead letter's own once opened, else the header's. */
function messageOf(d: ListedDeadLetter): string {
  return d.opening?.state === 'opened' && d.opening.message !== undefined ? d.opening.message : d.message
}

/** The narrowest the message column gets, however wide the other columns. */
const minMessageChars = 20

/**
 * The dead letters as an aligned table, one line each; the message column gets what
 * `widthChars` leaves and is cut with an ellipsis. Control characters and bidi overrides (a
 * message often quotes the rejected input) are shown escaped (terminalText.ts).
 *
 * When any is sealed, a SEALED column says what its value is to this reader: `opened` (BYTES and
 * MESSAGE are then the original's), `[erased]`, `[unreadable]`, `[unknown key]`, or `sealed` when
 * no key store was given; `-` for a dead letter that is not sealed.
 */
export function deadLetterTable(deadLetters: ListedDeadLetter[], widthChars: number): string[] {
  const anySealed = deadLetters.some((d) => d.sealed !== undefined)
  const header = [
    'DLQ',
    'FAILED AT',
    'SERVICE',
    'CLASS/REASON',
    'SOURCE',
    'BYTES',
    ...(anySealed ? ['SEALED'] : []),
  ]
  const rows = deadLetters.map((d) => {
    const value = valueOf(d)
    return [
      `${d.dlq.partition}/${d.dlq.offset}`,
      d.failedAt.toISOString(),
      d.service,
      d.reason === undefined ? d.errorClass : `${d.errorClass}/${d.reason}`,
      `${d.source.topic}/${d.source.partition}/${d.source.offset}`,
      value === null ? 'null' : String(value.length),
      ...(anySealed ? [sealedCell(d)] : []),
    ].map(terminalSafe)
  })
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
    ...rows.map((cells, i) => {
      const d = deadLetters[i]
      return line(cells, terminalSafe(d === undefined ? '' : messageOf(d)))
    }),
  ]
}

/**
 * One JSON object per dead letter. Key, value and headers are base64: audit payloads are often
 * Avro, and the bytes must survive the trip to be re-sent or inspected. `valueBase64` and
 * `message` are what the topic holds; `sealed` is null, or says what opening the dead letter gave,
 * with the original value and error message when it opened.
 */
export function deadLetterJson(d: ListedDeadLetter): string {
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
    sealed: d.sealed === undefined ? null : sealedJson(d.sealed.keyId, d.opening),
  })
}

function sealedJson(keyId: string, opening: SealedView | undefined): object {
  if (opening === undefined) return { keyId, state: 'not-opened' }
  switch (opening.state) {
    case 'opened':
      return {
        keyId,
        state: 'opened',
        tenant: opening.tenant,
        valueBase64: opening.value.toString('base64'),
        message: opening.message ?? null,
      }
    case 'erased':
      return { keyId, state: 'erased', tenant: opening.tenant, erasedAt: opening.erasedAt.toISOString() }
    default:
      return { keyId, state: opening.state }
  }
}

/**
 * What the listing holds beyond its rows: how many, whether the limit cut it, how many are sealed
 * and what opening them gave, foreign messages.
 */
export function listingSummary(
  listing: DeadLetterListing & { deadLetters: ListedDeadLetter[] },
  topic: string,
  limit: number,
  filtered: boolean,
): string[] {
  const count = listing.deadLetters.length
  const what = `${count} dead letter(s)${filtered ? ' matching' : ''} in ${topic}`
  return [
    listing.limited ? `${what}; more match: raise --limit (now ${limit})` : what,
    ...sealedLines(listing.deadLetters),
    ...unreadableLines(listing.unreadable, topic, 'listed'),
  ]
}

function sealedLines(deadLetters: ListedDeadLetter[]): string[] {
  const sealed = deadLetters.filter((d) => d.sealed !== undefined)
  if (sealed.length === 0) return []
  const byState = new Map<string, number>()
  for (const d of sealed) {
    const state = sealedCell(d)
    byState.set(state, (byState.get(state) ?? 0) + 1)
  }
  const states = [...byState].map(([state, n]) => `${n} ${state}`).join(', ')
  return [
    `${sealed.length} sealed for their data subject (${states})`,
    ...(byState.has('sealed')
      ? [
          'to open them, give the key store they were sealed with: FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE, or --keys-dir and --kek-file',
        ]
      : []),
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
    ...refusedLines(result.refused),
    ...unreadableLines(result.unreadable, topic, 'replayed'),
    ...(result.dryRun
      ? []
      : result.progressRemembered
        ? [`remembered in consumer group ${groupId}: the next replay starts after these`]
        : ['not remembered (a filter selects what is replayed): the same replay would send these again']),
  ]
}

function refusedLines(refused: readonly RefusedDeadLetter[]): string[] {
  if (refused.length === 0) return []
  const erased = refused.filter((r) => r.reason === 'erased').length
  const counts = [
    ...(erased > 0 ? [`${erased} erased`] : []),
    ...(erased < refused.length ? [`${refused.length - erased} not opening`] : []),
  ]
  return [
    `refused ${refused.length} sealed dead letter(s) (${counts.join(', ')}): never sent, not even as ciphertext`,
    ...refused.map((r) => `  ${r.message}`),
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
