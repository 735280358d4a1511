import { describe, expect, it } from 'vitest'
import type { FieldChange } from './auditEvent.js'
import { diffValues } from './diffValues.js'
import { maxJsonNestingDepth } from './jsonNesting.js'
import { snapshotJsonText } from './jsonValueSnapshot.js'

const change = (
  path: string,
  old_value: string | null,
  new_value: string | null,
  value_type: FieldChange['value_type'],
): FieldChange => ({ path, old_value, new_value, value_type })

const refusal = (code: string, path: string) =>
  expect.objectContaining({ name: 'JsonValueError', code, path, retriable: false }) as Error

describe('diffValues on ticket 9548-B1 (schemas/examples/ticket-9548-B1.ndjson)', () => {
  const created = { title: 'Export to PDF fails', priority: 'Normal', status: 'open' }
  const escalated = { ...created, priority: 'Urgent' }
  const solution = "Use the print dialog's Save as PDF until the fix ships."
  const solved = { ...escalated, priority: 'Normal', solution }

  it('lists every field of a new ticket as added', () => {
    expect(diffValues(undefined, created)).toEqual([
      change('priority', null, '"Normal"', 'string'),
      change('status', null, '"open"', 'string'),
      change('title', null, '"Export to PDF fails"', 'string'),
    ])
  })

  it('records the priority raised from Normal to Urgent', () => {
    expect(diffValues(created, escalated)).toEqual([change('priority', '"Normal"', '"Urgent"', 'string')])
  })

  it('records the priority lowered back and the proposed solution added', () => {
    expect(diffValues(escalated, solved)).toEqual([
      change('priority', '"Urgent"', '"Normal"', 'string'),
      change('solution', null, JSON.stringify(solution), 'string'),
    ])
  })

  it('lists every field of a deleted ticket as removed', () => {
    expect(diffValues(solved, undefined).map((c) => [c.path, c.new_value])).toEqual([
      ['priority', null],
      ['solution', null],
      ['status', null],
      ['title', null],
    ])
  })
})

describe('diffValues', () => {
  it('reports nested changes by dotted path, and an object that appeared as one whole value', () => {
    const before = { customer: { name: 'Ada', address: { city: 'Lyon', street: '1 rue Neuve' } } }
    const after = {
      customer: {
        name: 'Ada',
        address: { city: 'Paris', street: '1 rue Neuve', geo: { lon: 2.35, lat: 48.85 } },
      },
    }
    expect(diffValues(before, after)).toEqual([
      change('customer.address.city', '"Lyon"', '"Paris"', 'string'),
      change('customer.address.geo', null, '{"lat":48.85,"lon":2.35}', 'object'),
    ])
  })

  it('compares arrays item by item: appended items are added, items gone from the end removed', () => {
    expect(diffValues({ tags: ['pdf', 'export'] }, { tags: ['pdf', 'print', 'urgent'] })).toEqual([
      change('tags[1]', '"export"', '"print"', 'string'),
      change('tags[2]', null, '"urgent"', 'string'),
    ])
    expect(diffValues({ tags: ['pdf', 'export', 'urgent'] }, { tags: ['pdf'] })).toEqual([
      change('tags[1]', '"export"', null, 'string'),
      change('tags[2]', '"urgent"', null, 'string'),
    ])
    expect(diffValues({ items: [{ qty: 1 }, { qty: 2 }] }, { items: [{ qty: 1 }, { qty: 3 }] })).toEqual([
      change('items[1].qty', '2', '3', 'number'),
    ])
  })

  it('compares Dates by time and writes them as ISO text', () => {
    const due = '2024-03-20T17:00:00.000Z'
    const later = '2024-03-21T17:00:00.000Z'
    expect(diffValues({ due: new Date(due) }, { due: new Date(due) })).toEqual([])
    expect(diffValues({ due: new Date(due) }, { due: new Date(later) })).toEqual([
      change('due', `"${due}"`, `"${later}"`, 'date'),
    ])
    expect(diffValues({}, { due: new Date(due) })).toEqual([change('due', null, `"${due}"`, 'date')])
    expect(diffValues({ due: new Date(due) }, {})).toEqual([change('due', `"${due}"`, null, 'date')])
  })

  it('tells a Date from the string of its ISO text, by value_type', () => {
    const due = '2024-03-20T17:00:00.000Z'
    expect(diffValues({ due }, { due: new Date(due) })).toEqual([
      change('due', `"${due}"`, `"${due}"`, 'date'),
    ])
    expect(diffValues({ due: new Date(due) }, { due })).toEqual([
      change('due', `"${due}"`, `"${due}"`, 'string'),
    ])
  })

  it('treats null as a value and a missing or undefined key as no field', () => {
    expect(diffValues({ assignee: null }, { assignee: 'u-1002' })).toEqual([
      change('assignee', 'null', '"u-1002"', 'string'),
    ])
    expect(diffValues({ assignee: 'u-1002' }, { assignee: null })).toEqual([
      change('assignee', '"u-1002"', 'null', 'null'),
    ])
    expect(diffValues({ assignee: null }, {})).toEqual([change('assignee', 'null', null, 'null')])
    expect(diffValues({}, { assignee: null })).toEqual([change('assignee', null, 'null', 'null')])
    expect(diffValues({ assignee: undefined }, {})).toEqual([])
    expect(diffValues({ assignee: undefined }, { assignee: 1 })).toEqual([
      change('assignee', null, '1', 'number'),
    ])
  })

  it('reports a value that changed kind as one change with both whole values', () => {
    expect(diffValues({ contact: { email: 'a@b.c', phone: '1' } }, { contact: 'a@b.c' })).toEqual([
      change('contact', '{"email":"a@b.c","phone":"1"}', '"a@b.c"', 'string'),
    ])
    expect(diffValues({ labels: ['x', 'y'] }, { labels: { x: true } })).toEqual([
      change('labels', '["x","y"]', '{"x":true}', 'object'),
    ])
    expect(diffValues({ n: '1' }, { n: 1 })).toEqual([change('n', '"1"', '1', 'number')])
    expect(diffValues({ n: 0 }, { n: false })).toEqual([change('n', '0', 'false', 'boolean')])
    expect(diffValues({ n: {} }, { n: [] })).toEqual([change('n', '{}', '[]', 'array')])
  })

  it('reports an empty object or array that appeared, which no leaf would show', () => {
    expect(diffValues({}, { meta: {}, tags: [] })).toEqual([
      change('meta', null, '{}', 'object'),
      change('tags', null, '[]', 'array'),
    ])
  })

  it('writes whole values as canonical JSON: keys sorted, Dates as ISO text, nested values as they are', () => {
    const value = { z: 1, a: [new Date(0), null, { y: 'é', b: 2n ** 64n }], m: { '': -0 } }
    expect(diffValues({}, { value })).toEqual([
      change(
        'value',
        null,
        '{"a":["1970-01-01T00:00:00.000Z",null,{"b":18446744073709551616,"y":"é"}],"m":{"":0},"z":1}',
        'object',
      ),
    ])
  })

  it('quotes keys that are not names, so paths stay unambiguous', () => {
    const before = { labels: { 'e.mail': 'a', 'first name': 'b', 'a[0]': 'c', '': 'd', 'say "hi"': 'e' } }
    const after = { labels: { 'e.mail': 'A', 'first name': 'B', 'a[0]': 'C', '': 'D', 'say "hi"': 'E' } }
    expect(diffValues(before, after).map((c) => c.path)).toEqual([
      'labels[""]',
      'labels["a[0]"]',
      'labels["e.mail"]',
      'labels["first name"]',
      'labels["say \\"hi\\""]',
    ])
  })

  it('reads only own members: keys named like Object.prototype members are ordinary keys', () => {
    const before = JSON.parse('{"__proto__":{"admin":false}}') as object
    const after = JSON.parse('{"__proto__":{"admin":true},"constructor":1,"toString":"x"}') as object
    expect(diffValues(before, after)).toEqual([
      change('__proto__.admin', 'false', 'true', 'boolean'),
      change('constructor', null, '1', 'number'),
      change('toString', null, '"x"', 'string'),
    ])
    expect(diffValues({}, {})).toEqual([])
    expect(diffValues(Object.create(null) as object, { a: 1 })).toEqual([change('a', null, '1', 'number')])
  })

  it('sorts by path: keys by code units, indexes numerically', () => {
    const items = Array.from({ length: 12 }, (_, i) => i)
    const changes = diffValues(
      { b: 1, a: 1, B: 1, items },
      { items: items.map((i) => i + 1), B: 2, a: 2, b: 2 },
    )
    expect(changes.map((c) => c.path)).toEqual(['B', 'a', 'b', ...items.map((i) => `items[${i}]`)])
  })

  it('writes bigints with all their digits and treats them as numbers', () => {
    expect(diffValues({ id: 2n ** 64n }, { id: 2n ** 64n + 1n })).toEqual([
      change('id', '18446744073709551616', '18446744073709551617', 'number'),
    ])
    expect(diffValues({ n: 1n }, { n: 1 })).toEqual([])
    expect(diffValues({ n: -0 }, { n: 0 })).toEqual([])
  })

  it('accepts a value shared by two fields, which is not a cycle', () => {
    const address = { city: 'Lyon' }
    expect(
      diffValues({ billing: address, shipping: address }, { billing: address, shipping: { city: 'Nice' } }),
    ).toEqual([change('shipping.city', '"Lyon"', '"Nice"', 'string')])
  })

  describe('refuses values JSON cannot carry, naming the path', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    it.each<[string, unknown, string, string]>([
      ['NaN', { price: NaN }, 'NON_FINITE_NUMBER', 'price'],
      ['Infinity', { a: { b: [1, -Infinity] } }, 'NON_FINITE_NUMBER', 'a.b[1]'],
      ['an invalid Date', { due: new Date('next tuesday') }, 'INVALID_DATE', 'due'],
      ['a function', { onSave: () => 1 }, 'UNSUPPORTED_VALUE', 'onSave'],
      ['a symbol', { kind: Symbol('x') }, 'UNSUPPORTED_VALUE', 'kind'],
      ['a Map', { ['e.mail']: new Map() }, 'UNSUPPORTED_VALUE', '["e.mail"]'],
      ['a class instance', { total: new Money(5) }, 'UNSUPPORTED_VALUE', 'total'],
      ['a boxed string', { s: new String('x') }, 'UNSUPPORTED_VALUE', 's'],
      ['symbol keys', { o: { [Symbol('k')]: 1 } }, 'UNSUPPORTED_VALUE', 'o'],
      ['an undefined array item', { tags: ['a', undefined] }, 'UNSUPPORTED_VALUE', 'tags[1]'],
      // eslint-disable-next-line no-sparse-arrays
      ['a hole in an array', { tags: ['a', , 'c'] }, 'UNSUPPORTED_VALUE', 'tags[1]'],
    ])('%s', (_, snapshot, code, path) => {
      expect(() => diffValues({}, snapshot)).toThrow(refusal(code, path))
      expect(() => diffValues(snapshot, {})).toThrow(refusal(code, path))
      // Checked even when unchanged, so it fails the first time rather than the first time it changes.
      expect(() => diffValues(snapshot, snapshot)).toThrow(refusal(code, path))
    })

    it('a cycle', () => {
      const ticket: Record<string, unknown> = { id: '9548-B1' }
      ticket['links'] = [{ self: ticket }]
      expect(() => diffValues({}, ticket)).toThrow(refusal('CYCLE', 'links[0].self'))
      expect(() => diffValues(ticket, ticket)).toThrow(refusal('CYCLE', 'links[0].self'))
    })

    it('a value nested past maxJsonNestingDepth (6,000 levels), before any walk could overflow the stack', () => {
      const nested = (levels: number) => {
        let value: unknown = 'bottom'
        for (let level = 0; level < levels; level++) value = { n: value }
        return { body: value }
      }
      // The snapshot is a level of its own: 63 more fit, 64 do not.
      expect(() => diffValues({}, nested(maxJsonNestingDepth - 1))).not.toThrow()
      const deepPath = `body${'.n'.repeat(maxJsonNestingDepth - 1)}`
      expect(() => diffValues({}, nested(maxJsonNestingDepth))).toThrow(refusal('TOO_DEEP', deepPath))
      for (const [before, after] of [
        [{}, nested(6_000)],
        [nested(6_000), {}],
        [nested(6_000), nested(6_000)],
      ]) {
        expect(() => diffValues(before, after)).toThrow(refusal('TOO_DEEP', deepPath))
      }
      expect(() => snapshotJsonText(nested(6_000))).toThrow(refusal('TOO_DEEP', deepPath))
    })

    it.each([['a string'], [['an', 'array']], [null], [new Date(0)]])(
      'a snapshot that is not an object: %j',
      (root) => {
        expect(() => diffValues(root, {})).toThrow(refusal('ROOT_NOT_OBJECT', ''))
        expect(() => diffValues({}, root)).toThrow(refusal('ROOT_NOT_OBJECT', ''))
      },
    )

    it('with messages that name the path and never the value', () => {
      expect(() => diffValues({}, { card: { pin: NaN } })).toThrow(
        'card.pin is NaN, which JSON cannot represent',
      )
      expect(() => diffValues({}, { card: new Map([['pan', '4111']]) })).toThrow(
        'card is an instance of Map, which has no JSON form; convert it to plain data first',
      )
    })
  })

  describe('options', () => {
    const before = {
      tags: ['a', 'b'],
      customer: { address: { city: 'Lyon' }, emails: { 'ada@x.io': 'home' } },
    }
    const after = {
      tags: ['z', 'a', 'b'],
      customer: { address: { city: 'Nice' }, emails: { 'ada@y.io': 'home' } },
    }

    it("arrays: 'whole' reports a changed array as one change", () => {
      expect(diffValues(before, after, { arrays: 'whole' }).at(-1)).toEqual(
        change('tags', '["a","b"]', '["z","a","b"]', 'array'),
      )
      expect(diffValues({ tags: ['a'] }, { tags: ['a'] }, { arrays: 'whole' })).toEqual([])
      expect(() => diffValues({}, {}, { arrays: 'all' as 'whole' })).toThrow(RangeError)
    })

    it('maxDepth compares containers at that depth whole', () => {
      expect(diffValues(before, after, { maxDepth: 1 }).map((c) => c.path)).toEqual(['customer', 'tags'])
      expect(diffValues(before, after, { maxDepth: 2 }).map((c) => c.path)).toEqual([
        'customer.address',
        'customer.emails',
        'tags[0]',
        'tags[1]',
        'tags[2]',
      ])
      expect(() => diffValues(before, after, { maxDepth: 0 })).toThrow(RangeError)
    })

    it('wholeAt reports the values at those paths whole, so keys under them stay out of the paths', () => {
      expect(diffValues(before, after, { wholeAt: ['customer.emails'] }).map((c) => c.path)).toEqual([
        'customer.address.city',
        'customer.emails',
        'tags[0]',
        'tags[1]',
        'tags[2]',
      ])
      const cards = (pin: string) => ({ cards: [{ holder: 'Ada', secret: { pin } }] })
      expect(diffValues(cards('1234'), cards('4321'), { wholeAt: ['cards[*].secret'] })).toEqual([
        change('cards[0].secret', '{"pin":"1234"}', '{"pin":"4321"}', 'object'),
      ])
      expect(() => diffValues(before, after, { wholeAt: ['customer..emails'] })).toThrow(
        refusal('INVALID_PATH', 'customer..emails'),
      )
    })
  })
})
