import { terminalSafe } from './terminalText.js'

/** An event as the query API answers it (the canonical nested form; see services/query-api). */
export type ApiEvent = {
  event_id: string
  occurred_at: string
  tenant: string
  actor: { type: string; id: string; display_name: string | null }
  action: { kind: string; name: string }
  category: string
  object: { type: string; id: string; label: string | null }
  changes: { path: string; old_value: string | null; new_value: string | null }[]
  outcome: { status: string; reason: string | null }
}

export type ApiAlert = {
  alert_id: string
  raised_at: string
  tenant: string
  status: string
  rule: string | null
  severity: string
  group_key: string | null
  description: string | null
}

/** Columns and rows of a listing, before formatting. */
export type Listing = { header: string[]; rows: string[][] }

export function eventListing(events: readonly ApiEvent[]): Listing {
  return {
    header: ['OCCURRED AT', 'TENANT', 'ACTOR', 'ACTION', 'OBJECT', 'OUTCOME', 'CHANGES'],
    rows: events.map((event) => [
      event.occurred_at,
      event.tenant,
      event.actor.display_name ? `${event.actor.id} (${event.actor.display_name})` : event.actor.id,
      event.action.name,
      `${event.object.type}/${event.object.id}`,
      event.outcome.status,
      event.changes.map(changeText).join('; '),
    ]),
  }
}

/** A record's state as `GET /v1/objects/{type}/{id}/state` answers it. */
export type ApiRecordState = {
  object: { type: string; id: string; label: string | null }
  tenant: string
  at: string
  events: number
  deleted: boolean
  /** `latest`: the record is kept at temporal level 1, its latest change only. */
  kept?: 'latest' | 'all'
  fields: {
    path: string
    value: unknown
    changed_at: string
    event_id: string
    actor: { id: string; display_name: string | null }
    action: string
  }[]
}

export function stateListing(state: ApiRecordState): Listing {
  return {
    header: ['FIELD', 'VALUE', 'CHANGED AT', 'BY', 'ACTION'],
    rows: state.fields.map((field) => [
      field.path,
      JSON.stringify(field.value),
      field.changed_at,
      field.actor.display_name ? `${field.actor.id} (${field.actor.display_name})` : field.actor.id,
      field.action,
    ]),
  }
}

export function alertListing(alerts: readonly ApiAlert[]): Listing {
  return {
    header: ['RAISED AT', 'TENANT', 'SEVERITY', 'STATUS', 'RULE', 'GROUP KEY', 'DESCRIPTION'],
    rows: alerts.map((alert) => [
      alert.raised_at,
      alert.tenant,
      alert.severity,
      alert.status,
      alert.rule ?? '',
      alert.group_key ?? '',
      alert.description ?? '',
    ]),
  }
}

/** A SQL answer: its columns, and each value as text (objects and arrays as JSON). */
export function sqlListing(
  columns: readonly { name: string }[],
  rows: readonly Record<string, unknown>[],
): Listing {
  return {
    header: columns.map((column) => column.name),
    rows: rows.map((row) => columns.map((column) => cellText(row[column.name]))),
  }
}

function changeText(change: ApiEvent['changes'][number]): string {
  const value = (text: string | null) => text ?? '∅'
  return `${change.path}: ${value(change.old_value)} → ${value(change.new_value)}`
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/**
 * An aligned table; the last column gets what `widthChars` leaves (at least 20) and is cut with
 * an ellipsis. Control characters and bidi overrides in cells, the header's included, are shown
 * escaped (terminalText.ts), so a row is one line and shows what is stored.
 */
export function tableLines(listing: Listing, widthChars: number): string[] {
  const rows = listing.rows.map((row) => row.map(terminalSafe))
  const header = listing.header.map(terminalSafe)
  const fixed = header.slice(0, -1)
  const widths = fixed.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const gap = '  '
  const lastChars = Math.max(20, widthChars - widths.reduce((sum, w) => sum + w + gap.length, 0))
  const line = (cells: string[]) =>
    [...widths.map((w, i) => (cells[i] ?? '').padEnd(w)), truncate(cells.at(-1) ?? '', lastChars)]
      .join(gap)
      .trimEnd()
  return [line(header), ...rows.map(line)]
}

/** RFC 4180 CSV: a header line, then one line per row; fields quoted when they need it. */
export function csvLines(listing: Listing, withHeader = true): string[] {
  const field = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)
  const line = (cells: string[]) => cells.map(field).join(',')
  return [...(withHeader ? [line(listing.header)] : []), ...listing.rows.map(line)]
}

function truncate(text: string, maxChars: number): string {
  const chars = Array.from(text)
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`
}
