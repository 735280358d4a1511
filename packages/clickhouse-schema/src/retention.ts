import { ConfigError, type ConfigProblem } from '@audit-pipeline/config'

/** How long events are kept, as ClickHouse counts it: calendar months and years, not fixed days. */
export const retentionUnits = ['day', 'week', 'month', 'year'] as const
export type RetentionUnit = (typeof retentionUnits)[number]
export type RetentionPeriod = { readonly amount: number; readonly unit: RetentionUnit }

/**
 * How long audit events are kept, by category and optionally by tenant. For an event, the first
 * that applies wins: its tenant's entry for its category, its tenant's `default`, the category's
 * entry, then `default`. ClickHouse deletes expired rows in background merges (TTL), so an
 * expired event can stay visible for a while after its time.
 */
export type RetentionPolicy = {
  readonly byCategory: Readonly<Record<string, RetentionPeriod>>
  readonly default: RetentionPeriod
  /** tenant → category (or `default`) → period. */
  readonly byTenant: Readonly<Record<string, Readonly<Record<string, RetentionPeriod>>>>
}

/** The environment variables the policy is read from. */
export const retentionSettings = {
  categories: 'SINK_RETENTION',
  tenants: 'SINK_RETENTION_TENANTS',
} as const

/**
 * Kept well below the 2106 end of ClickHouse's `DateTime`: TTL arithmetic on `DateTime` wraps
 * around past it (2024 + 100 years is 1987), which would expire every row at once.
 */
export const maxRetentionYears = 50

const days = (amount: number): RetentionPeriod => ({ amount, unit: 'day' })
const years = (amount: number): RetentionPeriod => ({ amount, unit: 'year' })

/** Debug logs a week; business and security records seven years; platform audit a year; others two. */
export const defaultRetentionPolicy: RetentionPolicy = {
  byCategory: { debug: days(7), business: years(7), security: years(7), platform: years(1) },
  default: years(2),
  byTenant: {},
}

const unitSuffixes: Readonly<Record<string, RetentionUnit>> = { d: 'day', w: 'week', mo: 'month', y: 'year' }
const daysPerUnit: Readonly<Record<RetentionUnit, number>> = { day: 1, week: 7, month: 31, year: 366 }
const periodText = /^(\d{1,6})(d|w|mo|y)$/
// Categories and tenants are free text in events: any name that does not hold the separators.
const nameText = /^[^\s,:=]+$/
const periodHelp =
  'a whole number and a unit: d (days), w (weeks), mo (months) or y (years), e.g. 7d, 18mo, 7y'

/**
 * Reads `SINK_RETENTION` (`debug=7d,business=7y,…,default=2y`) and `SINK_RETENTION_TENANTS`
 * (`acme:business=10y,acme:default=3y`). Entries override the defaults one by one: a category
 * not given keeps its default period. Throws a ConfigError naming every bad entry.
 */
export function parseRetentionPolicy(env: Readonly<Record<string, string | undefined>>): RetentionPolicy {
  const problems: ConfigProblem[] = []
  const categoriesSetting = retentionSettings.categories
  const tenantsSetting = retentionSettings.tenants

  // Maps, turned into objects by fromEntries at the end: a name such as `__proto__` stays a key.
  const byCategory = new Map(Object.entries(defaultRetentionPolicy.byCategory))
  let fallback = defaultRetentionPolicy.default
  const seenCategories = new Set<string>()
  for (const entry of entries(env[categoriesSetting])) {
    const parsed = parseEntry(entry, 'category=period, e.g. debug=7d or default=2y')
    if (typeof parsed === 'string') {
      problems.push({ setting: categoriesSetting, message: parsed })
      continue
    }
    if (seenCategories.has(parsed.name)) {
      problems.push({ setting: categoriesSetting, message: `'${parsed.name}' is given more than once` })
      continue
    }
    seenCategories.add(parsed.name)
    if (parsed.name === 'default') fallback = parsed.period
    else byCategory.set(parsed.name, parsed.period)
  }

  const byTenant = new Map<string, Map<string, RetentionPeriod>>()
  for (const entry of entries(env[tenantsSetting])) {
    const colon = entry.indexOf(':')
    const tenant = colon < 0 ? '' : entry.slice(0, colon).trim()
    if (!nameText.test(tenant)) {
      problems.push({
        setting: tenantsSetting,
        message: `'${entry}' is not tenant:category=period, e.g. acme:business=10y or acme:default=3y`,
      })
      continue
    }
    const parsed = parseEntry(entry.slice(colon + 1), 'tenant:category=period, e.g. acme:business=10y', entry)
    if (typeof parsed === 'string') {
      problems.push({ setting: tenantsSetting, message: parsed })
      continue
    }
    const periods = byTenant.get(tenant) ?? new Map<string, RetentionPeriod>()
    byTenant.set(tenant, periods)
    if (periods.has(parsed.name)) {
      problems.push({
        setting: tenantsSetting,
        message: `'${tenant}:${parsed.name}' is given more than once`,
      })
      continue
    }
    periods.set(parsed.name, parsed.period)
  }

  if (problems.length > 0) throw new ConfigError(problems)
  return {
    byCategory: Object.fromEntries(byCategory),
    default: fallback,
    byTenant: Object.fromEntries(
      [...byTenant].map(([tenant, periods]) => [tenant, Object.fromEntries(periods)]),
    ),
  }
}

/** `7d`, `18mo`, `7y`: how a period is written in settings and shown in messages. */
export function formatRetentionPeriod(period: RetentionPeriod): string {
  const suffix = Object.entries(unitSuffixes).find(([, unit]) => unit === period.unit)?.[0] ?? period.unit
  return `${period.amount}${suffix}`
}

function entries(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/** `name=period`, or a message saying what is wrong with it; `shown` is the entry as written. */
function parseEntry(
  text: string,
  expected: string,
  shown = text,
): { name: string; period: RetentionPeriod } | string {
  const equals = text.indexOf('=')
  const name = equals < 0 ? '' : text.slice(0, equals).trim()
  if (!nameText.test(name)) return `'${shown}' is not ${expected}`
  const periodPart = text.slice(equals + 1).trim()
  const match = periodText.exec(periodPart)
  const unit = match ? unitSuffixes[match[2] ?? ''] : undefined
  if (!match || unit === undefined) return `'${shown}': '${periodPart}' is not ${periodHelp}`
  const amount = Number(match[1])
  if (amount === 0) return `'${shown}': a period must be longer than 0`
  if (amount * daysPerUnit[unit] > maxRetentionYears * 366) {
    return `'${shown}': longer than ${maxRetentionYears} years, which ClickHouse TTL dates cannot reach`
  }
  return { name, period: { amount, unit } }
}

/** The period that applies to an event, as the tables' TTL picks it (retentionTtl.ts, most specific first). */
export function retentionOf(policy: RetentionPolicy, tenant: string, category: string): RetentionPeriod {
  const periods = Object.hasOwn(policy.byTenant, tenant) ? policy.byTenant[tenant] : undefined
  if (periods && Object.hasOwn(periods, category) && category !== 'default') return periods[category]!
  if (periods && Object.hasOwn(periods, 'default')) return periods['default']!
  if (Object.hasOwn(policy.byCategory, category)) return policy.byCategory[category]!
  return policy.default
}

/**
 * The longest period of the policy: how long the integrity records (chain entries, checkpoints)
 * are kept, so that every event's entry outlives the event and a chain is only ever cut at its
 * oldest end.
 */
export function longestRetention(policy: RetentionPolicy): RetentionPeriod {
  const all = [
    policy.default,
    ...Object.values(policy.byCategory),
    ...Object.values(policy.byTenant).flatMap((periods) => Object.values(periods)),
  ]
  return all.reduce((longest, period) =>
    period.amount * daysPerUnit[period.unit] > longest.amount * daysPerUnit[longest.unit] ? period : longest,
  )
}

/**
 * When an event at `timeMs` expires under `period`, as ClickHouse's date arithmetic counts it:
 * calendar months and years, a day past the end of the month clamped to its last day (31 January
 * plus one month is 28 or 29 February).
 */
export function expiryOf(period: RetentionPeriod, timeMs: number): number {
  const at = new Date(timeMs)
  if (period.unit === 'day' || period.unit === 'week') {
    return timeMs + period.amount * (period.unit === 'week' ? 7 : 1) * 86_400_000
  }
  const months = period.unit === 'year' ? 12 * period.amount : period.amount
  const monthIndex = at.getUTCMonth() + months
  const year = at.getUTCFullYear() + Math.floor(monthIndex / 12)
  const month = monthIndex % 12
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate()
  return Date.UTC(
    year,
    month,
    Math.min(at.getUTCDate(), lastDay),
    at.getUTCHours(),
    at.getUTCMinutes(),
    at.getUTCSeconds(),
    at.getUTCMilliseconds(),
  )
}
