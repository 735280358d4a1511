import { quoteString } from './sqlText.js'

/**
 * What one reader's query may use at most. The query API sets its own caps per query
 * (QUERY_API_MAX_MEMORY_BYTES, …), which must not exceed these: ClickHouse refuses a value above
 * a MAX constraint ("Setting max_memory_usage shouldn't be greater than …", SETTING_CONSTRAINT_
 * VIOLATION). An analyst's query runs with these values unless it lowers them.
 */
export type ReaderLimits = {
  /** `max_memory_usage` of one query, bytes. Group-by and sort spill to disk at half of it. */
  maxMemoryBytes: number
  /** `max_execution_time` of one query, seconds. */
  maxExecutionSeconds: number
  /** `max_rows_to_read` of one query (subqueries included). */
  maxRowsToRead: number
  /** `max_result_rows` of one answer; the query API's exports need as many as they may return. */
  maxResultRows: number
  /** `max_result_bytes` of one answer, bytes. */
  maxResultBytes: number
}

/** One quota budget per hour: per API key for the query API, per user for analysts. */
export type QuotaLimits = {
  /** Queries a key (or analyst) may start in an hour; one SQL request of the API is about 3. */
  queriesPerHour: number
  /** Rows its queries may read in an hour. */
  readRowsPerHour: number
  /** Seconds its queries may run in an hour, summed. */
  executionSecondsPerHour: number
}

/**
 * Above the query API's defaults (256 MiB, 10 s, 1e8 rows read, 64 MiB answers, exports of up to
 * 1e6 rows), so that the API's own caps stay the ones that bite and it can be configured up a
 * little without touching ClickHouse.
 */
export const defaultReaderLimits: ReaderLimits = {
  maxMemoryBytes: 1024 ** 3,
  maxExecutionSeconds: 60,
  maxRowsToRead: 1_000_000_000,
  maxResultRows: 1_000_000,
  maxResultBytes: 256 * 1024 ** 2,
}

/** A backstop well above honest use: 10 queries a second, 1e11 rows and one hour of query time. */
export const defaultQuotaLimits: QuotaLimits = {
  queriesPerHour: 36_000,
  readRowsPerHour: 100_000_000_000,
  executionSecondsPerHour: 3_600,
}

/** One entry of a settings profile: a value, bounds, and whether a reader may change it. */
export type ProfileSetting = {
  name: string
  value?: number | string
  min?: number
  max?: number
  /**
   * CONST: never changed. CHANGEABLE_IN_READONLY: a reader (readonly = 1) may change it within
   * min..max. Neither: a reader cannot change it at all (readonly = 1 allows only the former).
   */
  writability?: 'CONST' | 'CHANGEABLE_IN_READONLY'
}

/**
 * ClickHouse's own parser bounds (its defaults): the query API sets lower ones per query; no
 * reader may raise them. 0 means "unlimited" for the depths, hence MIN 1.
 */
const parserBounds = [
  ['max_query_size', 262_144],
  ['max_parser_depth', 1_000],
  ['max_ast_depth', 1_000],
  ['max_ast_elements', 50_000],
] as const

/**
 * The settings profile of every reader (the query API user, and each analyst).
 *
 * `readonly = 1`, not 2. With 2 a reader may change every setting that has no constraint: a
 * deny-list that each new ClickHouse setting silently extends. With 1 a reader may change only
 * the settings marked CHANGEABLE_IN_READONLY, and only within their MIN/MAX, so the query API
 * can still lower its caps per query while neither it nor an analyst's `SET` or `SETTINGS`
 * clause can raise one (docs/en/operations/settings/constraints-on-settings.md, "Read-only
 * mode"). CHANGEABLE_IN_READONLY needs the server's `access_control_improvements.
 * settings_constraints_replace_previous`, true by default in current releases; without it
 * ClickHouse refuses this profile ("CHANGEABLE_IN_READONLY … is not allowed unless
 * settings_constraints_replace_previous is enabled").
 *
 * A setting sent with the value it already has is not checked at all (SettingsConstraints::
 * checkImpl, "Setting isn't checked if value has not changed"), which is why the query API may
 * keep sending `readonly = 1` and `result_overflow_mode = 'throw'`. Under readonly = 2 sending
 * `readonly` at all is refused ("Cannot modify 'readonly' setting in readonly mode").
 *
 * Every cap has MIN 1 because 0 means "no limit" for each of them: a MAX alone would let a
 * reader lift the cap by lowering it to 0.
 */
export function readerProfileSettings(limits: ReaderLimits): ProfileSetting[] {
  checkLimits(limits)
  const cap = (name: string, value: number): ProfileSetting => ({
    name,
    value,
    min: 1,
    max: value,
    writability: 'CHANGEABLE_IN_READONLY',
  })
  const spillBytes = Math.floor(limits.maxMemoryBytes / 2)
  return [
    { name: 'readonly', value: 1, writability: 'CONST' },
    { name: 'allow_ddl', value: 0, writability: 'CONST' },
    { name: 'allow_introspection_functions', value: 0, writability: 'CONST' },
    cap('max_memory_usage', limits.maxMemoryBytes),
    cap('max_execution_time', limits.maxExecutionSeconds),
    cap('max_rows_to_read', limits.maxRowsToRead),
    cap('max_result_rows', limits.maxResultRows),
    cap('max_result_bytes', limits.maxResultBytes),
    // Spilling earlier only trades speed for memory, and 0 (never spill) leaves the memory cap to
    // stop the query: no MIN needed. Above the memory cap a threshold would never be reached.
    ...(['max_bytes_before_external_group_by', 'max_bytes_before_external_sort'] as const).map(
      (name): ProfileSetting => ({
        name,
        value: spillBytes,
        max: limits.maxMemoryBytes,
        writability: 'CHANGEABLE_IN_READONLY',
      }),
    ),
    // 'break' would answer part of the rows as if they were all of them.
    ...(['read_overflow_mode', 'result_overflow_mode', 'timeout_overflow_mode'] as const).map(
      (name): ProfileSetting => ({ name, value: 'throw', writability: 'CONST' }),
    ),
    ...parserBounds.map(([name, value]) => cap(name, value)),
    // What the storage pins on every statement (sessionSettings.ts): presentation only.
    ...(
      ['output_format_json_quote_64bit_integers', 'session_timezone', 'date_time_input_format'] as const
    ).map((name): ProfileSetting => ({ name, writability: 'CHANGEABLE_IN_READONLY' })),
    // The SETTINGS clause of the sink's audit_events_deduplicated view (auditTables.ts): a view's
    // own clause is held to the reader's constraints too (clamped, since ClickHouse PR #115397).
    { name: 'optimize_move_to_prewhere_if_final', writability: 'CHANGEABLE_IN_READONLY' },
    // The query API restates its tenant filter here on both transports. A filter is ANDed with
    // the row policies, so whatever a reader sets can only hide more rows, never show one.
    { name: 'additional_table_filters', writability: 'CHANGEABLE_IN_READONLY' },
  ]
}

/** The profile entry as `CREATE/ALTER SETTINGS PROFILE … SETTINGS` writes it. */
export function profileSettingSql(setting: ProfileSetting): string {
  const literal = (value: number | string) => (typeof value === 'number' ? String(value) : quoteString(value))
  return [
    setting.name,
    ...(setting.value !== undefined ? [`= ${literal(setting.value)}`] : []),
    ...(setting.min !== undefined ? [`MIN ${setting.min}`] : []),
    ...(setting.max !== undefined ? [`MAX ${setting.max}`] : []),
    ...(setting.writability !== undefined ? [setting.writability] : []),
  ].join(' ')
}

/**
 * HTTP parameters that @clickhouse/client carries in `clickhouse_settings` but that the server
 * consumes itself rather than as settings (HTTPHandler's reserved parameter names).
 */
const notSettings = new Set(['quota_key', 'query_id', 'session_id', 'role', 'database', 'default_format'])

/**
 * Why ClickHouse would refuse these per-query settings from a user with the reader profile; empty
 * when it would accept them. For tests of what the query API sends: a setting the profile does
 * not let a reader change is refused even when harmless ("Cannot modify 'max_threads' setting
 * in readonly mode"), unless it is sent with exactly the value the profile gives it.
 */
export function readerProfileViolations(
  settings: Readonly<Record<string, unknown>>,
  limits: ReaderLimits,
): string[] {
  const profile = new Map(readerProfileSettings(limits).map((setting) => [setting.name, setting]))
  const problems: string[] = []
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined || notSettings.has(name)) continue
    const entry = profile.get(name)
    if (entry?.writability !== 'CHANGEABLE_IN_READONLY') {
      const sameValue =
        entry?.value !== undefined &&
        (typeof value === 'string' || typeof value === 'number') &&
        String(value) === String(entry.value)
      if (sameValue) continue
      problems.push(`${name}: a reader cannot change it (readonly = 1); the profile has ${describe(entry)}`)
      continue
    }
    if (entry.min === undefined && entry.max === undefined) continue
    const number = Number(value)
    if (typeof value === 'boolean' || !Number.isFinite(number)) {
      problems.push(`${name}: expected a number, got ${JSON.stringify(value)}`)
    } else if (entry.min !== undefined && number < entry.min) {
      problems.push(`${name}: ${number} is below the profile's MIN ${entry.min}`)
    } else if (entry.max !== undefined && number > entry.max) {
      problems.push(`${name}: ${number} is above the profile's MAX ${entry.max}`)
    }
  }
  return problems
}

function describe(entry: ProfileSetting | undefined): string {
  if (entry === undefined) return 'no entry for it'
  return entry.value === undefined ? profileSettingSql(entry) : `${entry.name} = ${String(entry.value)}`
}

const limitNames: readonly (keyof ReaderLimits)[] = [
  'maxMemoryBytes',
  'maxExecutionSeconds',
  'maxRowsToRead',
  'maxResultRows',
  'maxResultBytes',
]

function checkLimits(limits: ReaderLimits): void {
  for (const name of limitNames) checkPositive(`limits.${name}`, limits[name])
}

/** Throws a RangeError naming `what` unless `value` is a positive safe integer. */
export function checkPositive(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`invalid ${what} ${String(value)}: expected a whole number of at least 1`)
  }
}
