import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { EventInvalidError } from './eventInvalidError.js'
import { assertEventAcceptable, eventProblems } from './eventPolicy.js'
import { parseEventJson } from './jsonForm.js'

const example = parseEventJson(JSON.parse(ticketExampleLines()[0]!))
const now = Date.parse('2024-03-14T10:00:00Z')

describe('eventProblems', () => {
  it('accepts the documented example', () => {
    expect(eventProblems(example, now)).toEqual([])
  })

  it('rejects a time in the future beyond the allowed skew, and allows small skew', () => {
    expect(eventProblems({ ...example, occurred_at: now + 60_000 }, now)).toEqual([])
    expect(eventProblems({ ...example, occurred_at: now + 3_600_000 }, now)).toEqual([
      {
        field: 'occurred_at',
        message:
          '2024-03-14T11:00:00.000Z is in the future (more than 300 s ahead of 2024-03-14T10:00:00.000Z)',
      },
    ])
  })

  it('rejects unknown categories, naming the accepted ones, and honours a wider policy', () => {
    expect(eventProblems({ ...example, category: 'marketing' }, now)).toEqual([
      {
        field: 'category',
        message: "unknown category 'marketing'; expected one of: business, security, platform, debug",
      },
    ])
    const policy = { categories: ['business', 'marketing'], maxFutureSkewMs: 0 }
    expect(eventProblems({ ...example, category: 'marketing' }, now, policy)).toEqual([])
  })

  it('checks what code-built events can get wrong', () => {
    const broken = {
      ...example,
      event_id: '1234',
      occurred_at: 1.5,
      actor: { ...example.actor, id: '' },
      changes: [
        { path: 'priority', old_value: 'Normal', new_value: '"Urgent"', value_type: 'text' as never },
      ],
      after: '{',
    }
    expect(eventProblems(broken, now).map((p) => p.field)).toEqual([
      'event_id',
      'occurred_at',
      'actor.id',
      'changes[0].value_type',
      'changes[0].old_value',
      'after',
    ])
    expect(() => assertEventAcceptable(broken, now)).toThrow(EventInvalidError)
  })
})

describe('eventProblems on changes and sensitive fields', () => {
  it('rejects malformed paths and changes that change nothing', () => {
    const problems = eventProblems(
      {
        ...example,
        changes: [
          { path: 'a..b', old_value: '1', new_value: '2', value_type: 'number' },
          { path: 'status', old_value: null, new_value: null, value_type: 'null' },
          { path: 'labels["e.mail"]', old_value: null, new_value: '"x"', value_type: 'string' },
        ],
        sensitive_fields: ['cards[*].number', 'bad path'],
      },
      now,
    )
    expect(problems).toEqual([
      {
        field: 'changes[0].path',
        message: `'a..b' is not a field path (e.g. customer.address.city, tags[2], labels["e.mail"])`,
      },
      {
        field: 'changes[1]',
        message: 'a change needs old_value, new_value or both (neither means nothing changed)',
      },
      {
        field: 'sensitive_fields[1]',
        message: `'bad path' is not a field path (e.g. customer.email, cards[*].number)`,
      },
    ])
  })
})
