import { TupleParam } from '@clickhouse/client'
import { StorageError } from './storageError.js'

/**
 * Query parameters as chDB must receive them to bind as a ClickHouse server does for
 * `@clickhouse/client` over HTTP.
 *
 * The HTTP client sends a `Date` as Unix seconds with milliseconds (`1704164645.678`), which the
 * server reads time-zone free and exactly. chDB formats a `Date` itself as
 * `YYYY-MM-DD HH:MM:SS`, dropping the milliseconds, so a `{t:DateTime64(3)}` filter would
 * silently miss. Handing chDB the HTTP client's text instead keeps both transports identical.
 *
 * A `Date` inside an array, map or tuple is refused: the HTTP client writes it there as bare
 * Unix seconds, which ClickHouse reads as DateTime64 ticks (1704164645 becomes 1970-01-20) or
 * rejects when it has a fraction. Failing here, in tests, beats a wrong filter in production.
 */
export function embeddedQueryParams(
  params: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (params === undefined) return undefined
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(params)) {
    if (value instanceof Date) {
      out[name] = unixSecondsText(value)
      continue
    }
    if (containsDate(value)) {
      throw new StorageError(
        'UNSUPPORTED_QUERY_PARAMETER',
        `query parameter ${name} has a Date inside an array, map or tuple, which ClickHouse misreads ` +
          'as sent by @clickhouse/client; pass toDateTime64Text(date) strings there instead',
        false,
      )
    }
    out[name] = value
  }
  return out
}

// Same text as @clickhouse/client's formatQueryParams: zero milliseconds are left out.
function unixSecondsText(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000).toString()
  const ms = date.getUTCMilliseconds()
  return ms === 0 ? seconds : `${seconds}.${ms.toString().padStart(3, '0')}`
}

function containsDate(value: unknown): boolean {
  if (value instanceof Date) return true
  if (Array.isArray(value)) return value.some(containsDate)
  if (value instanceof TupleParam) return value.values.some(containsDate)
  if (value instanceof Map) return [...value].some(([k, v]) => containsDate(k) || containsDate(v))
  if (typeof value === 'object' && value !== null) return Object.values(value).some(containsDate)
  return false
}
