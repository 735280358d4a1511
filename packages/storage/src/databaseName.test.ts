import { describe, expect, it } from 'vitest'
import { quoteDatabaseName } from './databaseName.js'

describe('quoteDatabaseName', () => {
  it('quotes a plain name', () => {
    expect(quoteDatabaseName('audit_2024')).toBe('`audit_2024`')
    expect(quoteDatabaseName('_x')).toBe('`_x`')
  })

  it.each(['', '1st', 'a-b', 'a.b', 'a`b', 'é'])('refuses %j with INVALID_NAME', (name) => {
    expect(() => quoteDatabaseName(name)).toThrow(
      expect.objectContaining({ code: 'INVALID_NAME', retriable: false }),
    )
  })
})
