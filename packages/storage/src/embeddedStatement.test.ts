import { describe, expect, it } from 'vitest'
import { hasStatementSettings, statementPrelude } from './embeddedStatement.js'

describe('statementPrelude', () => {
  const pinned =
    "SET output_format_json_quote_64bit_integers = 1, session_timezone = 'UTC', date_time_input_format = 'best_effort'; "

  it('restates the pinned settings and the database before every statement', () => {
    expect(statementPrelude('audit', undefined)).toBe(`${pinned}USE \`audit\`; `)
    expect(statementPrelude(undefined, {})).toBe(pinned)
  })

  it('leaves out a pinned setting the statement sets itself', () => {
    expect(
      statementPrelude(undefined, { session_timezone: 'Asia/Tokyo', date_time_input_format: 'basic' }),
    ).toBe('SET output_format_json_quote_64bit_integers = 1; ')
  })

  it('refuses a database name that would need quoting', () => {
    expect(() => statementPrelude('a`; DROP', undefined)).toThrow(/invalid database name/)
  })
})

describe('hasStatementSettings', () => {
  it('is true only when some setting has a value', () => {
    expect(hasStatementSettings(undefined)).toBe(false)
    expect(hasStatementSettings({})).toBe(false)
    expect(hasStatementSettings({ insert_deduplication_token: undefined })).toBe(false)
    expect(hasStatementSettings({ insert_deduplication_token: 't' })).toBe(true)
  })
})
