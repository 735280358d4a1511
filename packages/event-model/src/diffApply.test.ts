import { describe, expect, it } from 'vitest'
import type { FieldChange } from './auditEvent.js'
import { applyChanges } from './diffApply.js'
import { diffValues } from './diffValues.js'

const change = (
  path: string,
  old_value: string | null,
  new_value: string | null,
  value_type: FieldChange['value_type'] = 'string',
): FieldChange => ({ path, old_value, new_value, value_type })

const refusal = (code: string, path: string, message?: string) =>
  expect.objectContaining({
    name: 'JsonValueError',
    code,
    path,
    ...(message !== undefined && { message: expect.stringContaining(message) as string }),
  }) as Error

describe('applyChanges', () => {
  it("rebuilds ticket 9548-B1's history from its change lists", () => {
    const created = applyChanges(undefined, [
      change('title', null, '"Export to PDF fails"'),
      change('priority', null, '"Normal"'),
      change('status', null, '"open"'),
    ])
    const escalated = applyChanges(created, [change('priority', '"Normal"', '"Urgent"')])
    const solved = applyChanges(escalated, [
      change('priority', '"Urgent"', '"Normal"'),
      change('solution', null, '"Use the print dialog\'s Save as PDF until the fix ships."'),
    ])
    expect(created).toEqual({ title: 'Export to PDF fails', priority: 'Normal', status: 'open' })
    expect(escalated).toEqual({ ...created, priority: 'Urgent' })
    expect(solved).toEqual({
      ...created,
      solution: "Use the print dialog's Save as PDF until the fix ships.",
    })
  })

  it('returns a new snapshot and leaves the old one as it was', () => {
    const before = { customer: { address: { city: 'Lyon' } }, tags: ['a'] }
    const after = applyChanges(before, [
      change('customer.address.city', '"Lyon"', '"Nice"'),
      change('tags[1]', null, '"b"'),
    ])
    expect(after).toEqual({ customer: { address: { city: 'Nice' } }, tags: ['a', 'b'] })
    expect(before).toEqual({ customer: { address: { city: 'Lyon' } }, tags: ['a'] })
  })

  it('turns a value whose value_type is date back into a Date', () => {
    const after = applyChanges({}, [change('due', null, '"2024-03-20T17:00:00.000Z"', 'date')])
    expect(after['due']).toEqual(new Date('2024-03-20T17:00:00.000Z'))
  })

  it('does not depend on the order of the list', () => {
    const before = { tags: ['a', 'b', 'c', 'd'], x: 1 }
    const after = { tags: ['A'], y: 2 }
    const changes = diffValues(before, after)
    expect(applyChanges(before, changes)).toEqual(after)
    expect(applyChanges(before, [...changes].reverse())).toEqual(after)
    const grow = diffValues(after, before)
    expect(applyChanges(after, [...grow].reverse())).toEqual(before)
  })

  it('sets a key named __proto__ as a key, without touching any prototype', () => {
    const after = applyChanges({}, [change('__proto__', null, '{"admin":true}', 'object')])
    expect(Object.keys(after)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(after)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined()
  })

  describe('refuses a change that does not fit the snapshot, naming it', () => {
    it.each<[string, unknown, FieldChange, string]>([
      [
        'an added field that exists',
        { a: 1 },
        change('a', null, '2'),
        'changes[0] (a) adds a field that already exists',
      ],
      [
        'a changed field that does not exist',
        {},
        change('a', '1', '2'),
        'changes a field that does not exist',
      ],
      [
        'a removed field that does not exist',
        {},
        change('a', '1', null),
        'removes a field that does not exist',
      ],
      ['an item added past the end', { t: [] }, change('t[1]', null, '"x"'), 'adds item 1 to an array of 0'],
      ['an item added inside', { t: ['a'] }, change('t[0]', null, '"x"'), 'adds item 0 to an array of 1'],
      ['an item removed before the end', { t: ['a', 'b'] }, change('t[0]', '"a"', null), 'removes item 0'],
      [
        'an item changed past the end',
        { t: [] },
        change('t[0]', '"a"', '"b"'),
        'changes item 0 of an array of 0',
      ],
      ['a missing parent', {}, change('a.b', null, '1'), 'needs a to be an object, but it is missing'],
      [
        'a parent of another kind',
        { a: 'x' },
        change('a.b', null, '1'),
        'needs a to be an object, but it is of type string',
      ],
      [
        'an index into an object',
        { a: {} },
        change('a[0]', null, '1'),
        'needs a to be an array, but it is of type object',
      ],
      [
        'a date that is not an ISO time',
        {},
        change('d', null, '"soon"', 'date'),
        'has value_type date but no ISO time',
      ],
      ['a change without values', { a: 1 }, change('a', null, null), 'has neither an old nor a new value'],
    ])('%s', (_, before, fieldChange, message) => {
      expect(() => applyChanges(before, [fieldChange])).toThrow(
        refusal('CHANGE_NOT_APPLICABLE', fieldChange.path, message),
      )
    })

    it('a path or a value that cannot be read', () => {
      expect(() => applyChanges({}, [change('a..b', null, '1')])).toThrow(refusal('INVALID_PATH', 'a..b'))
      expect(() => applyChanges({}, [change('a', null, "{'x':1}")])).toThrow(
        refusal('INVALID_JSON_TEXT', 'changes[0].new_value'),
      )
    })

    it('a snapshot that is not an object', () => {
      expect(() => applyChanges([], [])).toThrow(refusal('ROOT_NOT_OBJECT', ''))
    })
  })
})
