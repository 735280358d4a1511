import { describe, expect, it } from 'vitest'
import { expiresAtFrom } from './expiry.js'

const now = Date.parse('2026-03-01T12:00:00Z')

describe('expiresAtFrom', () => {
  it('counts minutes, hours and days from now, or takes a time with its zone', () => {
    expect(expiresAtFrom('90m', now)).toEqual(new Date('2026-03-01T13:30:00Z'))
    expect(expiresAtFrom('12h', now)).toEqual(new Date('2026-03-02T00:00:00Z'))
    expect(expiresAtFrom('30d', now)).toEqual(new Date('2026-03-31T12:00:00Z'))
    expect(expiresAtFrom('2026-06-01T00:00:00+02:00', now)).toEqual(new Date('2026-05-31T22:00:00Z'))
  })

  it('says what it accepts, and refuses a time already past', () => {
    const accepted =
      'expected a duration such as 30d, 12h or 90m, or an ISO-8601 time with its zone, e.g. 2026-03-01T12:00:00Z'
    expect(() => expiresAtFrom('30 days', now)).toThrow(`${accepted}; got '30 days'`)
    expect(() => expiresAtFrom('2w', now)).toThrow(`${accepted}; got '2w'`)
    // Without a zone the instant would depend on the machine.
    expect(() => expiresAtFrom('2026-06-01T00:00:00', now)).toThrow(accepted)
    // A day the month lacks is no date (Date.parse would roll it into March).
    expect(() => expiresAtFrom('2027-02-29T00:00:00Z', now)).toThrow(accepted)
    expect(() => expiresAtFrom('2026-04-31T00:00:00Z', now)).toThrow(accepted)
    expect(expiresAtFrom('2028-02-29T00:00:00Z', now)).toEqual(new Date('2028-02-29T00:00:00Z'))
    expect(() => expiresAtFrom('0d', now)).toThrow("expected a duration above zero; got '0d'")
    expect(() => expiresAtFrom('2026-03-01T11:59:00Z', now)).toThrow(
      '2026-03-01T11:59:00.000Z is already past',
    )
  })
})
