import { toDateTime64Text } from '@audit-pipeline/storage'

const isoForm =
  /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:[0-5]\d))?$/

/**
 * Reads an ISO-8601 date (midnight UTC) or a time with its zone; undefined when it is neither.
 * A time without a zone is refused: it would name a different instant on another machine.
 */
export function parseIsoTime(value: string): Date | undefined {
  const [, year, month, day] = isoForm.exec(value) ?? []
  if (year === undefined) return undefined
  // Date.parse rolls 2026-02-30 over to March 2 instead of refusing it.
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)))
  if (date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)) return undefined
  const parsed = new Date(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value))
  return Number.isNaN(parsed.getTime()) ? undefined : parsed
}

/** The `DateTime64(3, 'UTC')` parameter text for a time. */
export const dateTime64Param = (date: Date) => toDateTime64Text(date)

/** The `DateTime('UTC')` parameter text (whole seconds) for a time. */
export const dateTimeParam = (date: Date) => toDateTime64Text(date).slice(0, 19)

/** `2024-03-14 09:45:00.000` (ClickHouse, UTC) as ISO-8601. */
export function isoFromClickHouse(text: string): string {
  return `${text.replace(' ', 'T')}Z`
}
