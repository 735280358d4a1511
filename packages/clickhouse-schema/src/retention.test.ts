import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import {
  defaultRetentionPolicy,
  expiryOf,
  formatRetentionPeriod,
  longestRetention,
  parseRetentionPolicy,
  retentionOf,
  type RetentionPolicy,
} from './retention.js'

function problemsOf(env: Record<string, string>): { setting: string; message: string }[] {
  try {
    parseRetentionPolicy(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return [...(error as ConfigError).problems]
  }
  throw new Error('expected a ConfigError')
}

describe('parseRetentionPolicy', () => {
  it('gives the defaults when nothing is set, or only blanks', () => {
    expect(parseRetentionPolicy({})).toEqual(defaultRetentionPolicy)
    expect(parseRetentionPolicy({ SINK_RETENTION: ' , ', SINK_RETENTION_TENANTS: '' })).toEqual(
      defaultRetentionPolicy,
    )
    expect(defaultRetentionPolicy).toEqual({
      byCategory: {
        debug: { amount: 7, unit: 'day' },
        business: { amount: 7, unit: 'year' },
        security: { amount: 7, unit: 'year' },
        platform: { amount: 1, unit: 'year' },
      },
      default: { amount: 2, unit: 'year' },
      byTenant: {},
    })
  })

  it('reads every category, the default and every unit', () => {
    const policy = parseRetentionPolicy({
      SINK_RETENTION:
        'debug=7d, business=7y,security=7y ,platform=1y,default=2y,marketing=18mo,audit-trail.v2=3w',
    })
    expect(policy).toEqual({
      byCategory: {
        debug: { amount: 7, unit: 'day' },
        business: { amount: 7, unit: 'year' },
        security: { amount: 7, unit: 'year' },
        platform: { amount: 1, unit: 'year' },
        marketing: { amount: 18, unit: 'month' },
        'audit-trail.v2': { amount: 3, unit: 'week' },
      },
      default: { amount: 2, unit: 'year' },
      byTenant: {},
    } satisfies RetentionPolicy)
  })

  it('overrides the defaults entry by entry, keeping the rest', () => {
    const policy = parseRetentionPolicy({ SINK_RETENTION: 'debug=30d,default=5y' })
    expect(policy.byCategory).toEqual({
      ...defaultRetentionPolicy.byCategory,
      debug: { amount: 30, unit: 'day' },
    })
    expect(policy.default).toEqual({ amount: 5, unit: 'year' })
  })

  it('reads tenant entries, per category and a tenant default', () => {
    const policy = parseRetentionPolicy({
      SINK_RETENTION_TENANTS: 'acme:business=10y,acme:default=3y, globex:debug=1d',
    })
    expect(policy.byTenant).toEqual({
      acme: { business: { amount: 10, unit: 'year' }, default: { amount: 3, unit: 'year' } },
      globex: { debug: { amount: 1, unit: 'day' } },
    })
    expect(policy.byCategory).toEqual(defaultRetentionPolicy.byCategory)
  })

  it('names every bad entry with its variable and what it accepts', () => {
    expect(
      problemsOf({
        SINK_RETENTION:
          'debug=7,business:7y,=2y,platform=0d,security=2m,debug=8d,debug=9d,marketing=51y,x=600mo',
        SINK_RETENTION_TENANTS: 'acme=10y,acme:business=ten,globex:debug=1d,globex:debug=2d,:debug=1d',
      }),
    ).toEqual([
      {
        setting: 'SINK_RETENTION',
        message:
          "'debug=7': '7' is not a whole number and a unit: d (days), w (weeks), mo (months) or y (years), e.g. 7d, 18mo, 7y",
      },
      {
        setting: 'SINK_RETENTION',
        message: "'business:7y' is not category=period, e.g. debug=7d or default=2y",
      },
      { setting: 'SINK_RETENTION', message: "'=2y' is not category=period, e.g. debug=7d or default=2y" },
      { setting: 'SINK_RETENTION', message: "'platform=0d': a period must be longer than 0" },
      {
        setting: 'SINK_RETENTION',
        message:
          "'security=2m': '2m' is not a whole number and a unit: d (days), w (weeks), mo (months) or y (years), e.g. 7d, 18mo, 7y",
      },
      { setting: 'SINK_RETENTION', message: "'debug' is given more than once" },
      {
        setting: 'SINK_RETENTION',
        message: "'marketing=51y': longer than 50 years, which ClickHouse TTL dates cannot reach",
      },
      {
        setting: 'SINK_RETENTION',
        message: "'x=600mo': longer than 50 years, which ClickHouse TTL dates cannot reach",
      },
      {
        setting: 'SINK_RETENTION_TENANTS',
        message: "'acme=10y' is not tenant:category=period, e.g. acme:business=10y or acme:default=3y",
      },
      {
        setting: 'SINK_RETENTION_TENANTS',
        message:
          "'acme:business=ten': 'ten' is not a whole number and a unit: d (days), w (weeks), mo (months) or y (years), e.g. 7d, 18mo, 7y",
      },
      { setting: 'SINK_RETENTION_TENANTS', message: "'globex:debug' is given more than once" },
      {
        setting: 'SINK_RETENTION_TENANTS',
        message: "':debug=1d' is not tenant:category=period, e.g. acme:business=10y or acme:default=3y",
      },
    ])
  })

  it('keeps any name as a plain key, __proto__ included', () => {
    const policy = parseRetentionPolicy({
      SINK_RETENTION: '__proto__=1d',
      SINK_RETENTION_TENANTS: '__proto__:debug=2d',
    })
    expect(Object.keys(policy.byCategory)).toContain('__proto__')
    expect(Object.getPrototypeOf(policy.byCategory)).toBe(Object.prototype)
    expect(Object.keys(policy.byTenant)).toEqual(['__proto__'])
  })

  it('accepts 50 years, the longest period a TTL date can reach', () => {
    expect(parseRetentionPolicy({ SINK_RETENTION: 'business=50y' }).byCategory['business']).toEqual({
      amount: 50,
      unit: 'year',
    })
  })
})

describe('formatRetentionPeriod', () => {
  it('writes a period as it is read', () => {
    for (const text of ['7d', '3w', '18mo', '7y']) {
      const policy = parseRetentionPolicy({ SINK_RETENTION: `x=${text}` })
      expect(formatRetentionPeriod(policy.byCategory['x']!)).toBe(text)
    }
  })
})

describe('retentionOf, longestRetention, expiryOf', () => {
  const policy = parseRetentionPolicy({
    SINK_RETENTION: 'debug=7d,default=2y',
    SINK_RETENTION_TENANTS: 'acme:business=10y,acme:default=3y,beta:default=18mo',
  })

  it('picks the period the TTL picks: tenant and category, tenant, category, default', () => {
    expect(retentionOf(policy, 'acme', 'business')).toEqual({ amount: 10, unit: 'year' })
    expect(retentionOf(policy, 'acme', 'debug')).toEqual({ amount: 3, unit: 'year' })
    expect(retentionOf(policy, 'other', 'debug')).toEqual({ amount: 7, unit: 'day' })
    expect(retentionOf(policy, 'other', 'whatever')).toEqual({ amount: 2, unit: 'year' })
    expect(retentionOf(policy, '__proto__', 'constructor')).toEqual({ amount: 2, unit: 'year' })
  })

  it('finds the longest period, whatever its unit', () => {
    expect(longestRetention(policy)).toEqual({ amount: 10, unit: 'year' })
    expect(
      longestRetention(
        parseRetentionPolicy({
          SINK_RETENTION: 'debug=400d,business=1y,security=1y,platform=1y,default=12mo',
        }),
      ),
    ).toEqual({
      amount: 400,
      unit: 'day',
    })
  })

  it('adds calendar months as ClickHouse does, clamping to the end of the month', () => {
    expect(
      new Date(expiryOf({ amount: 1, unit: 'month' }, Date.parse('2024-01-31T10:00:00Z'))).toISOString(),
    ).toBe('2024-02-29T10:00:00.000Z')
    expect(
      new Date(expiryOf({ amount: 1, unit: 'year' }, Date.parse('2024-02-29T00:00:00Z'))).toISOString(),
    ).toBe('2025-02-28T00:00:00.000Z')
    expect(
      new Date(expiryOf({ amount: 18, unit: 'month' }, Date.parse('2024-08-15T12:34:56.789Z'))).toISOString(),
    ).toBe('2026-02-15T12:34:56.789Z')
    expect(expiryOf({ amount: 2, unit: 'week' }, 0)).toBe(14 * 86_400_000)
  })
})
