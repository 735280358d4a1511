/** An ISO-8601 time with its zone (a time without one would mean a different instant on each machine). */
const isoTimeWithZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

export const isoTimeRule = 'an ISO-8601 time with its zone, e.g. 2026-03-01T12:00:00Z'

/** The instant, or undefined when `text` is not an ISO-8601 time with its zone. */
export function parseIsoTime(text: string): Date | undefined {
  if (!isoTimeWithZone.test(text)) return undefined
  // Date.parse rolls 2026-02-30 over into March: a day the month lacks is no date.
  const [year = 0, month = 0, day = 0] = text.slice(0, 10).split('-').map(Number)
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate())
    return undefined
  const ms = Date.parse(text)
  return Number.isFinite(ms) ? new Date(ms) : undefined
}
