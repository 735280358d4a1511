import { describe, expect, it } from 'vitest'
import { diffValues } from './diffValues.js'
import { redactChanges } from './redactChanges.js'
import { redactSnapshot } from './redactSnapshot.js'

const hash = { mode: 'hash', hmacKey: 'k1-secret' } as const
const drop = { mode: 'drop' } as const

describe('redactSnapshot', () => {
  const snapshot = `{
    "title": "Export to PDF fails",
    "customer": { "name": "Ada", "email": "ada@example.com", "contacts": { "ada@home.example": "home" } },
    "cards": [ { "holder": "Ada", "number": "4111111111111111" }, { "holder": "Bob", "number": "5500000000000004" } ],
    "account": 12345678901234567891
  }`

  it('replaces the values at the sensitive paths and keeps everything else as it was written', () => {
    expect(redactSnapshot(snapshot, ['customer.email', 'cards[*].number'], drop)).toBe(
      '{"title":"Export to PDF fails",' +
        '"customer":{"name":"Ada","email":"[redacted]","contacts":{"ada@home.example":"home"}},' +
        '"cards":[{"holder":"Ada","number":"[redacted]"},{"holder":"Bob","number":"[redacted]"}],' +
        '"account":12345678901234567891}',
    )
  })

  it('replaces a sensitive object whole, keys included', () => {
    const redacted = redactSnapshot(snapshot, ['customer'], hash)
    expect(redacted).toMatch(/"customer":"hmac-sha256:[0-9a-f]{64}"/)
    expect(redacted).not.toContain('ada@')
  })

  it('leaves the snapshot as it was when a sensitive path leads nowhere in it', () => {
    const compact = JSON.stringify(JSON.parse(snapshot.replace('12345678901234567891', '1')))
    expect(redactSnapshot(compact, ['iban', 'title.first', 'cards[5].number', 'cards.number'], hash)).toBe(
      compact,
    )
  })

  it('hashes a value as the change list does, so both can be matched', () => {
    const before = { customer: { email: 'old@example.com' } }
    const after = { customer: { email: 'ada@example.com' } }
    const [change] = redactChanges(diffValues(before, after), ['customer.email'], hash)
    const redacted = JSON.parse(
      redactSnapshot(JSON.stringify(after), ['customer.email'], hash),
    ) as typeof after
    expect(change?.new_value).toBe(JSON.stringify(redacted.customer.email))
  })

  it('refuses text that is not JSON, without quoting it', () => {
    expect(() => redactSnapshot('{"email":ada@example.com}', ['email'], drop)).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON_TEXT', path: 'snapshot' }) as Error,
    )
    expect(() => redactSnapshot('{"email":ada@example.com}', ['email'], drop)).not.toThrow(/ada/)
  })
})
