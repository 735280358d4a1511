import type { RetentionPeriod, RetentionPolicy, RetentionUnit } from './retention.js'
import { quoteText } from './sqlText.js'

const intervalFunctions: Readonly<Record<RetentionUnit, string>> = {
  day: 'toIntervalDay',
  week: 'toIntervalWeek',
  month: 'toIntervalMonth',
  year: 'toIntervalYear',
}

/**
 * The TTL expression deleting a row once its retention is over: `time` plus the period that
 * applies to the row's `tenant` and `category` columns, most specific first (tenant and category,
 * tenant, category, default).
 *
 * Each branch of the `multiIf` is a whole date (`time + toIntervalYear(7)`), not an interval:
 * ClickHouse refuses `multiIf` over intervals of different units ("Cannot compare intervals
 * IntervalDay and IntervalYear because the number of days in a month is not fixed"). `time`
 * must be a `DateTime` expression: TTL on `DateTime64` needs ClickHouse 25.6 or later.
 */
export function retentionTtl(policy: RetentionPolicy, time: string): string {
  const expiry = (period: RetentionPeriod) => `${time} + ${intervalFunctions[period.unit]}(${period.amount})`
  const branches: string[] = []
  for (const tenant of Object.keys(policy.byTenant).sort()) {
    const periods = policy.byTenant[tenant] ?? {}
    for (const category of Object.keys(periods).sort()) {
      const period = periods[category]
      if (category === 'default' || period === undefined) continue
      branches.push(`tenant = ${quoteText(tenant)} AND category = ${quoteText(category)}, ${expiry(period)}`)
    }
    const tenantDefault = periods['default']
    if (tenantDefault) branches.push(`tenant = ${quoteText(tenant)}, ${expiry(tenantDefault)}`)
  }
  for (const category of Object.keys(policy.byCategory).sort()) {
    const period = policy.byCategory[category]
    if (period) branches.push(`category = ${quoteText(category)}, ${expiry(period)}`)
  }
  if (branches.length === 0) return expiry(policy.default)
  return `multiIf(\n    ${branches.join(',\n    ')},\n    ${expiry(policy.default)}\n)`
}
