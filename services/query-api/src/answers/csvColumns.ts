import type { StoredEventRow } from './eventRow.js'

/** The CSV export's columns: the stored row's, flat; arrays, maps and changes as JSON text. */
export function csvRecord(row: StoredEventRow): Record<string, string | null> {
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => [
      name,
      value === null || typeof value === 'string' ? value : JSON.stringify(value),
    ]),
  )
}
