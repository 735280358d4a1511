/** Output formats of the query commands. */
export const outputFormats = ['table', 'json', 'csv'] as const
export type OutputFormat = (typeof outputFormats)[number]

/** Filters as commander hands them over: strings, unchecked. */
export type QueryFilterFlags = {
  tenant?: string
  actor?: string
  action?: string
  actionKind?: string
  category?: string
  objectType?: string
  objectId?: string
  objectId2?: string
  objectId3?: string
  sessionId?: string
  ip?: string
  requestId?: string
  traceId?: string
  sourceService?: string
  changed?: string
  from?: string
  to?: string
  outcome?: string
  severity?: string
  createdSince?: string
  createdUntil?: string
  updatedSince?: string
  updatedUntil?: string
  since?: string
  until?: string
}

const filterParams: readonly (readonly [keyof QueryFilterFlags, string, string])[] = [
  ['tenant', 'tenant', '--tenant'],
  ['actor', 'actor', '--actor'],
  ['action', 'action', '--action'],
  ['actionKind', 'action_kind', '--action-kind'],
  ['category', 'category', '--category'],
  ['objectType', 'object_type', '--object-type'],
  ['objectId', 'object_id', '--object-id'],
  ['objectId2', 'object_id2', '--object-id2'],
  ['objectId3', 'object_id3', '--object-id3'],
  ['sessionId', 'session_id', '--session-id'],
  ['ip', 'ip', '--ip'],
  ['requestId', 'request_id', '--request-id'],
  ['traceId', 'trace_id', '--trace-id'],
  ['sourceService', 'source_service', '--source-service'],
  ['changed', 'changed', '--changed'],
  ['from', 'from', '--from'],
  ['to', 'to', '--to'],
  ['outcome', 'outcome', '--outcome'],
  ['severity', 'severity', '--severity'],
  ['createdSince', 'created_since', '--created-since'],
  ['createdUntil', 'created_until', '--created-until'],
  ['updatedSince', 'updated_since', '--updated-since'],
  ['updatedUntil', 'updated_until', '--updated-until'],
  ['since', 'since', '--since'],
  ['until', 'until', '--until'],
]

/**
 * The API's query string for the filters given. Values are passed as they are: the API checks
 * them and says what it accepts; here only empty values and times without a zone are refused,
 * since those would otherwise mean something else than the user intended.
 */
export function filterQuery(flags: QueryFilterFlags): URLSearchParams {
  if ((flags.from !== undefined || flags.to !== undefined) && flags.changed === undefined) {
    throw new Error(
      '--from and --to are the values a field changed from and to: name the field with --changed',
    )
  }
  const query = new URLSearchParams()
  for (const [flag, param, option] of filterParams) {
    const value = flags[flag]
    if (value === undefined) continue
    if (value.trim() === '') throw new Error(`${option} must not be empty`)
    query.set(param, timeFlags.has(flag) ? isoTimeOption(option, value) : value)
  }
  return query
}

const timeFlags: ReadonlySet<keyof QueryFilterFlags> = new Set([
  'createdSince',
  'createdUntil',
  'updatedSince',
  'updatedUntil',
  'since',
  'until',
])

/** An ISO-8601 date, or a time with its zone: a time without one would mean the machine's zone. */
export function isoTimeOption(option: string, value: string): string {
  if (isoTime.test(value)) return value
  throw new Error(
    `${option} must be an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z; got '${value}'`,
  )
}

const isoTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/

export function outputFormat(value: string): OutputFormat {
  if ((outputFormats as readonly string[]).includes(value)) return value as OutputFormat
  throw new Error(`--format must be one of: ${outputFormats.join(', ')}; got '${value}'`)
}

export function positiveInteger(option: string, value: string): number {
  const number = Number(value)
  if (/^\d+$/.test(value) && Number.isSafeInteger(number) && number > 0) return number
  throw new Error(`${option} must be a positive integer; got '${value}'`)
}
