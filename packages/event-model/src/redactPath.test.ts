import { describe, expect, it } from 'vitest'
import { isSensitivePath } from './redactPath.js'

describe('isSensitivePath', () => {
  it.each<[string, string[], boolean]>([
    ['customer', ['customer'], true],
    ['customer.email', ['customer'], true],
    ['customer.address.city', ['customer'], true],
    ['customer["e.mail"]', ['customer'], true],
    ['cards[0].number', ['cards'], true],
    ['cards[3].number', ['cards[*].number'], true],
    ['cards[3]', ['cards[*].number'], false],
    ['cards[3].holder', ['cards[*].number'], false],
    ['customer.email', ['customer.email', 'iban'], true],
    ['customerId', ['customer'], false],
    ['customer', ['customer.email'], false],
    ['email', ['customer.email'], false],
    ['labels["customer.email"]', ['customer.email'], false],
    ['m.0', ['m[0]'], false],
    ['m[0]', ['m[0]'], true],
    ['customer["email"]', ['customer.email'], true],
    ['anything', [], false],
  ])('%s with %j: %s', (path, sensitivePaths, expected) => {
    expect(isSensitivePath(path, sensitivePaths)).toBe(expected)
  })

  it('refuses a sensitive path that is not a path, rather than let its data through', () => {
    expect(() => isSensitivePath('customer.email', ['customer..email'])).toThrow(
      expect.objectContaining({ code: 'INVALID_PATH', path: 'customer..email' }) as Error,
    )
  })
})
