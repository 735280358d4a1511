import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  anyIndex,
  appendToPath,
  comparePaths,
  formatPath,
  parsePath,
  parsePathPattern,
  type PathSegment,
} from './jsonValuePath.js'

const segment: fc.Arbitrary<PathSegment> = fc.oneof(
  fc.constantFrom('customer', 'e.mail', 'x y', 'a[0]', '"', '\\', '', '0', '-', 'größe', '__proto__'),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.nat({ max: 20 }),
)
const segments = fc.array(segment, { minLength: 1, maxLength: 5 })

describe('formatPath', () => {
  it.each<[PathSegment[], string]>([
    [['customer', 'address', 'city'], 'customer.address.city'],
    [['tags', 2], 'tags[2]'],
    [['cards', 0, 'number'], 'cards[0].number'],
    [['headers', 'x-request-id', '2fa', 'snake_case'], 'headers.x-request-id.2fa.snake_case'],
    [['labels', 'e.mail'], 'labels["e.mail"]'],
    [['labels', 'first name'], 'labels["first name"]'],
    [['labels', 'a[0]'], 'labels["a[0]"]'],
    [['labels', 'say "hi"'], 'labels["say \\"hi\\""]'],
    [['labels', ''], 'labels[""]'],
    [['größe'], '["größe"]'],
    [['m', '0'], 'm.0'],
    [['m', 0], 'm[0]'],
  ])('%j is %s', (parts, path) => {
    expect(formatPath(parts)).toBe(path)
    expect(parsePath(path)).toEqual(parts)
  })

  it('builds a path one segment at a time', () => {
    expect(appendToPath(appendToPath('', 'a'), 'b c')).toBe('a["b c"]')
  })
})

describe('parsePath', () => {
  it('reads any formatted path back to its segments', () => {
    fc.assert(
      fc.property(segments, (parts) => {
        expect(parsePath(formatPath(parts))).toEqual(parts)
      }),
    )
  })

  it('gives every path one written form', () => {
    fc.assert(
      fc.property(segments, segments, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b))
        expect(formatPath(a)).not.toBe(formatPath(b))
      }),
    )
  })

  it('accepts a quoted name as the bare name', () => {
    expect(parsePath('customer["city"]')).toEqual(['customer', 'city'])
    expect(parsePath('["a"].b')).toEqual(['a', 'b'])
  })

  it.each([
    '',
    '.a',
    'a.',
    'a..b',
    'a b',
    'a.e.mail[',
    'a[01]',
    'a[-1]',
    'a[1.5]',
    'a["x"',
    'a["x"]b',
    "a['x']",
    'a["\\q"]',
    'a[*]',
    'a[99999999999999999999]',
  ])('refuses %j, naming it', (path) => {
    expect(() => parsePath(path)).toThrow(
      expect.objectContaining({ code: 'INVALID_PATH', path, retriable: false }) as Error,
    )
  })
})

describe('parsePathPattern', () => {
  it('reads [*] as any index', () => {
    expect(parsePathPattern('cards[*].number')).toEqual(['cards', anyIndex, 'number'])
    expect(parsePathPattern('m["*"]')).toEqual(['m', '*'])
  })
})

describe('comparePaths', () => {
  it('orders keys by code units, indexes numerically and a path before the paths under it', () => {
    const paths = ['tags[10]', 'b', 'tags[2]', 'a.b', 'a', 'Z', 'a["b c"]', 'a.b[0]', '["é"]']
    const sorted = ['Z', 'a', 'a.b', 'a.b[0]', 'a["b c"]', 'b', 'tags[2]', 'tags[10]', '["é"]']
    expect(paths.sort(comparePaths)).toEqual(sorted)
  })
})
