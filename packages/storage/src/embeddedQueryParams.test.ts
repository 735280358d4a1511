import { TupleParam } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { embeddedQueryParams } from './embeddedQueryParams.js'
import { StorageError } from './storageError.js'

describe('embeddedQueryParams', () => {
  it('sends a Date as @clickhouse/client does over HTTP: Unix seconds, milliseconds when there are some', () => {
    expect(
      embeddedQueryParams({
        withMs: new Date('2024-01-02T03:04:05.678Z'),
        lowMs: new Date('2024-01-02T03:04:05.007Z'),
        whole: new Date('2024-01-02T03:04:05.000Z'),
      }),
    ).toEqual({ withMs: '1704164645.678', lowMs: '1704164645.007', whole: '1704164645' })
  })

  it('passes every other value through untouched', () => {
    const tuple = new TupleParam([1, 'a'])
    const params = {
      n: 1,
      s: "it's",
      big: 2n ** 63n,
      list: ['a'],
      map: new Map([['k', 1]]),
      tuple,
      none: null,
    }
    expect(embeddedQueryParams(params)).toEqual(params)
    expect(embeddedQueryParams(undefined)).toBeUndefined()
  })

  it.each([
    ['an array', [new Date(0)]],
    ['a nested array', [[new Date(0)]]],
    ['a map value', new Map([['k', new Date(0)]])],
    ['an object value', { k: new Date(0) }],
    ['a tuple', new TupleParam([1, new Date(0)])],
  ])('refuses a Date inside %s, naming the parameter', (_, value) => {
    const refuse = () => embeddedQueryParams({ when: value })
    expect(refuse).toThrow(StorageError)
    expect(refuse).toThrow(/query parameter when has a Date inside/)
  })
})
