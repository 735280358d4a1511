import { describe, expect, it } from 'vitest'
import type { FieldChange } from './auditEvent.js'
import { diffValues } from './diffValues.js'
import { redactChanges } from './redactChanges.js'
import type { RedactionMethod } from './redactMethod.js'

const hash: RedactionMethod = { mode: 'hash', hmacKey: 'k1-secret' }
const drop: RedactionMethod = { mode: 'drop' }
const hashed = /^"hmac-sha256:[0-9a-f]{64}"$/

const before = {
  customerId: 'c-17',
  customer: { name: 'Ada', email: 'ada@old.example', address: { city: 'Lyon' } },
  cards: [{ holder: 'Ada', number: '4111111111111111' }],
  priority: 'Normal',
}
const after = {
  customerId: 'c-18',
  customer: { name: 'Ada L.', email: 'ada@new.example', address: { city: 'Nice' } },
  cards: [
    { holder: 'Ada L.', number: '5500000000000004' },
    { holder: 'Ada L.', number: '4000000000000002' },
  ],
  priority: 'Urgent',
}
const changes = diffValues(before, after)
const byPath = (list: FieldChange[]) => new Map(list.map((c) => [c.path, c]))

describe('redactChanges', () => {
  it('hashes both values of a change at a sensitive path, keeping path, value_type and nulls', () => {
    const redacted = byPath(redactChanges(changes, ['customer.email', 'cards[*].number'], hash))
    const email = redacted.get('customer.email')
    expect(email).toMatchObject({ path: 'customer.email', value_type: 'string' })
    expect(email?.old_value).toMatch(hashed)
    expect(email?.new_value).toMatch(hashed)
    expect(email?.old_value).not.toBe(email?.new_value)
    expect(redacted.get('cards[0].number')?.new_value).toMatch(hashed)
  })

  it('covers everything nested under a sensitive path, and nothing beside it', () => {
    const redacted = redactChanges(changes, ['customer'], drop)
    expect(redacted.filter((c) => c.new_value === '"[redacted]"').map((c) => c.path)).toEqual([
      'customer.address.city',
      'customer.email',
      'customer.name',
    ])
    const customerId = byPath(redacted).get('customerId')
    expect(customerId).toBe(byPath(changes).get('customerId'))
  })

  it('redacts the sensitive parts inside a value carried whole, and only those', () => {
    const redacted = byPath(redactChanges(changes, ['cards[*].number'], drop))
    expect(redacted.get('cards[1]')).toEqual({
      path: 'cards[1]',
      old_value: null,
      new_value: '{"holder":"Ada L.","number":"[redacted]"}',
      value_type: 'object',
    })
    const added = redactChanges(diffValues({}, { customer: before.customer }), ['customer.email'], drop)
    expect(added[0]?.new_value).toBe('{"address":{"city":"Lyon"},"email":"[redacted]","name":"Ada"}')
  })

  it('returns changes with nothing sensitive as they are', () => {
    const redacted = redactChanges(changes, ['iban'], hash)
    redacted.forEach((c, i) => expect(c).toBe(changes[i]))
  })

  it('hashes equal values equally, so an analyst still sees what changed and what did not', () => {
    const moved = diffValues({ a: { email: 'x@example' } }, { b: { email: 'x@example' } })
    const [removed, added] = redactChanges(moved, ['a.email', 'b.email'], hash)
    expect(removed?.old_value).toMatch(/"email":"hmac-sha256:/)
    expect(removed?.old_value).toBe(added?.new_value)
  })

  it('drops every value the same way, so not even equality shows', () => {
    const redacted = byPath(redactChanges(changes, ['customer.email'], drop)).get('customer.email')
    expect(redacted).toEqual({
      path: 'customer.email',
      old_value: '"[redacted]"',
      new_value: '"[redacted]"',
      value_type: 'string',
    })
  })

  it('refuses a value that is not JSON text, naming it', () => {
    const broken: FieldChange = {
      path: 'customer.email',
      old_value: 'ada@x',
      new_value: null,
      value_type: 'string',
    }
    expect(() => redactChanges([broken], ['customer'], hash)).toThrow(
      expect.objectContaining({ code: 'INVALID_JSON_TEXT', path: 'changes[0].old_value' }) as Error,
    )
  })
})
