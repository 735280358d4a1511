import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseJsonText } from './jsonValueParse.js'
import { JsonNumber, writeJsonText } from './jsonValueTree.js'

const jsonText = fc.oneof(
  fc.json({ stringUnit: 'binary' }),
  fc.jsonValue().map((value) => JSON.stringify(value, null, 2)),
)

const accepts = (text: string, parse: (text: string) => unknown) => {
  try {
    parse(text)
    return true
  } catch {
    return false
  }
}

describe('parseJsonText', () => {
  it('reads JSON to the value JSON.parse reads, and writes it back', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        const written = writeJsonText(parseJsonText(text, 'before'), { sortKeys: false })
        expect(written).toBe(JSON.stringify(JSON.parse(text)))
      }),
    )
  })

  it('accepts exactly what JSON.parse accepts', () => {
    const nearlyJson = fc.oneof(
      jsonText.chain((text) =>
        fc
          .tuple(fc.nat({ max: text.length }), fc.string({ unit: 'binary', maxLength: 2 }))
          .map(([at, inserted]) => text.slice(0, at) + inserted + text.slice(at + 1)),
      ),
      fc.constantFrom(
        '',
        ' ',
        '01',
        '1.',
        '.5',
        '-',
        '+1',
        '1e',
        '[1,]',
        '{"a":1,}',
        '{a:1}',
        "'a'",
        'nul',
        'True',
      ),
      fc.constantFrom(
        '"\t"',
        '"\\x41"',
        '"\\u00e"',
        '[1]x',
        '\ufeff1',
        '1 2',
        '{"a" 1}',
        '[,1]',
        '{,}',
        'NaN',
      ),
    )
    fc.assert(
      fc.property(nearlyJson, (text) => {
        expect(accepts(text, (t) => parseJsonText(t, 'after'))).toBe(accepts(text, JSON.parse))
      }),
    )
  })

  it('keeps every digit of a number, where JSON.parse rounds', () => {
    const text = '{"account":12345678901234567891,"rate":0.10000000000000000001,"tiny":1E-400}'
    expect(writeJsonText(parseJsonText(text, 'before'), { sortKeys: false })).toBe(text)
    expect(parseJsonText('12345678901234567891', 'before')).toEqual(new JsonNumber('12345678901234567891'))
  })

  it('treats a key named __proto__ as a key, keeping key order; a repeated key keeps its last value', () => {
    const tree = parseJsonText('{"b":1,"__proto__":{"polluted":true},"a":2,"b":3}', 'before')
    expect(writeJsonText(tree, { sortKeys: false })).toBe('{"b":3,"__proto__":{"polluted":true},"a":2}')
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('sorts keys by code units for canonical text', () => {
    const tree = parseJsonText('{"b":{"é":1,"z":2,"Z":3},"a":[{"y":1,"x":2}]}', 'before')
    expect(writeJsonText(tree, { sortKeys: true })).toBe('{"a":[{"x":2,"y":1}],"b":{"Z":3,"z":2,"é":1}}')
  })

  it('names the field and the offset, never the text, when it is not JSON', () => {
    const error = (() => {
      try {
        parseJsonText('{"email":"alice@example.com",}', 'changes[1].new_value')
      } catch (caught) {
        return caught as Error & { code: string; path: string }
      }
    })()
    expect(error).toMatchObject({ code: 'INVALID_JSON_TEXT', path: 'changes[1].new_value', retriable: false })
    expect(error?.message).toBe('changes[1].new_value is not JSON text: unexpected character at offset 29')
    expect(error?.message).not.toContain('alice')
  })
})
