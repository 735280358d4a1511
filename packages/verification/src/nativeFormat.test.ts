import { describe, expect, it } from 'vitest'
import { columnOf, nativeBlocks, NativeFormatError, parseNativeType } from './nativeFormat.js'

/** Bytes as ClickHouse writes them (the hex of real `FORMAT Native` answers, checked against chDB). */
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex')
const varString = (text: string) => {
  const bytes = Buffer.from(text, 'utf8')
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}
const uint64 = (value: number) => {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64LE(BigInt(value))
  return bytes
}
const column = (name: string, type: string, data: Buffer) =>
  Buffer.concat([varString(name), varString(type), data])
const block = (rows: number, ...columns: Buffer[]) =>
  Buffer.concat([Buffer.from([columns.length, rows]), ...columns])

describe('nativeBlocks', () => {
  it('reads the column types the trail is selected as', () => {
    // SELECT 'ab' AS s, CAST(NULL AS Nullable(String)) AS n, ['x','yz'] AS a, map('k','v') AS m,
    //   [tuple('p', NULL)]::Array(Tuple(path String, v Nullable(String))) AS t, toInt64(-2) AS i,
    //   toLowCardinality('lc') AS lc FROM numbers(2) FORMAT Native
    const bytes = hex(`
      0702017306537472696e67026162026162016e104e756c6c61626c6528537472
      696e67290101000001610d417272617928537472696e67290200000000000000
      0400000000000000017802797a017802797a016d134d617028537472696e672c
      20537472696e672901000000000000000200000000000000016b016b01760176
      01742d4172726179285475706c65287061746820537472696e672c2076204e75
      6c6c61626c6528537472696e6729292901000000000000000200000000000000
      0170017001010000016905496e743634fefffffffffffffffeffffffffffffff
      026c63164c6f7743617264696e616c69747928537472696e6729010000000000
      00000006000000000000020000000000000000026c6302000000000000000101`)
    const blocks = [...nativeBlocks(bytes)]
    expect(blocks).toHaveLength(1)
    const [first] = blocks
    expect(first?.rows).toBe(2)
    expect(Object.fromEntries(first!.names.map((name) => [name, columnOf(first!, name)]))).toEqual({
      s: ['ab', 'ab'],
      n: [null, null],
      a: [
        ['x', 'yz'],
        ['x', 'yz'],
      ],
      m: [{ k: 'v' }, { k: 'v' }],
      t: [[['p', null]], [['p', null]]],
      i: [-2, -2],
      lc: ['lc', 'lc'],
    })
  })

  it('reads LowCardinality(Nullable) and LowCardinality inside an Array, whose prefix comes first', () => {
    // SELECT if(number=0, NULL, 'q')::LowCardinality(Nullable(String)) AS ln,
    //   ['a','a']::Array(LowCardinality(String)) AS al FROM numbers(2) FORMAT Native
    const bytes = hex(`
      0202026c6e204c6f7743617264696e616c697479284e756c6c61626c65285374
      72696e6729290100000000000000000600000000000003000000000000000000
      01710200000000000000000202616c1d4172726179284c6f7743617264696e61
      6c69747928537472696e67292901000000000000000200000000000000040000
      0000000000000600000000000002000000000000000001610400000000000000
      01010101`)
    const [first] = [...nativeBlocks(bytes)]
    expect(columnOf(first!, 'ln')).toEqual([null, 'q'])
    expect(columnOf(first!, 'al')).toEqual([
      ['a', 'a'],
      ['a', 'a'],
    ])
  })

  it('keeps a map key named __proto__ as a key, and the last of repeated keys', () => {
    const keys = ['__proto__', 'k', 'k']
    const values = ['x', '1', '2']
    const data = Buffer.concat([uint64(3), ...keys.map(varString), ...values.map(varString)])
    const [first] = [...nativeBlocks(block(1, column('m', 'Map(String, String)', data)))]
    const [map] = columnOf(first!, 'm') as Record<string, string>[]
    expect(Object.keys(map!)).toEqual(['__proto__', 'k'])
    expect(map!['k']).toBe('2')
    expect(Object.getOwnPropertyDescriptor(map, '__proto__')?.value).toBe('x')
    expect(Object.getPrototypeOf(map)).toBe(Object.prototype)
  })

  it('reads several blocks, 64-bit integers exactly up to 2^53, and UTF-8', () => {
    const bytes = Buffer.concat([
      block(1, column('n', 'UInt64', uint64(2 ** 53 - 1)), column('s', 'String', varString('Zoë 🙂'))),
      block(1, column('n', 'UInt64', uint64(7)), column('s', 'String', varString(''))),
    ])
    const blocks = [...nativeBlocks(bytes)]
    expect(blocks.map((b) => [columnOf(b, 'n'), columnOf(b, 's')])).toEqual([
      [[2 ** 53 - 1], ['Zoë 🙂']],
      [[7], ['']],
    ])
  })

  it('refuses a truncated stream and a type it does not know, naming them', () => {
    const whole = block(1, column('s', 'String', varString('abcdef')))
    expect(() => [...nativeBlocks(whole.subarray(0, whole.length - 2))]).toThrow(NativeFormatError)
    expect(() => [...nativeBlocks(whole.subarray(0, whole.length - 2))]).toThrow(/ends early/)
    expect(() => [...nativeBlocks(block(1, column('u', 'UUID', Buffer.alloc(16))))]).toThrow(
      'the Native reader does not support the ClickHouse type UUID',
    )
    expect(() => columnOf([...nativeBlocks(whole)][0]!, 'other')).toThrow(
      'the answer has no column other (it has s)',
    )
  })
})

describe('parseNativeType', () => {
  it('reads nested and named types', () => {
    expect(
      parseNativeType(
        'Array(Tuple(path String, old_value Nullable(String), new_value Nullable(String), value_type LowCardinality(String)))',
      ),
    ).toEqual({
      kind: 'array',
      inner: {
        kind: 'tuple',
        elements: [
          { kind: 'string' },
          { kind: 'nullable', inner: { kind: 'string' } },
          { kind: 'nullable', inner: { kind: 'string' } },
          { kind: 'lowCardinality', inner: { kind: 'string' } },
        ],
      },
    })
    expect(parseNativeType('Map(LowCardinality(String), String)')).toEqual({
      kind: 'map',
      key: { kind: 'lowCardinality', inner: { kind: 'string' } },
      value: { kind: 'string' },
    })
    expect(() => parseNativeType("DateTime64(3, 'UTC')")).toThrow(NativeFormatError)
  })
})
