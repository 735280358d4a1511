/**
 * `2024-01-02 03:04:05.678`: a Date as `DateTime64(3)` text in UTC. ClickHouse parses this form
 * under every `date_time_input_format` and prints it for a `DateTime64(3, 'UTC')` column, so a
 * value written this way reads back as the same string.
 */
export function toDateTime64Text(date: Date): string {
  const iso = date.toISOString() // throws RangeError for an invalid Date
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
}

const dateTime64Text = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$/

/** The Date for text read from a `DateTime64(p, 'UTC')` column; digits past milliseconds are dropped. */
export function fromDateTime64Text(text: string): Date {
  const parts = dateTime64Text.exec(text)
  const date = parts && new Date(`${parts[1]}T${parts[2]}.${(parts[3] ?? '').slice(0, 3).padEnd(3, '0')}Z`)
  if (!date || Number.isNaN(date.getTime())) {
    throw new RangeError(`expected DateTime64 text like 2024-01-02 03:04:05.678, got ${JSON.stringify(text)}`)
  }
  return date
}
