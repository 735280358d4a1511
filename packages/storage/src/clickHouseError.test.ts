import { ClickHouseError } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { asClientError } from './clickHouseError.js'

// The shape chDB throws: the same fields as ClickHouseError, from another copy of the class.
class ForeignClickHouseError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly type: string,
  ) {
    super(message)
  }
}

describe('asClientError', () => {
  it("rebuilds a foreign ClickHouseError as the client's, keeping the original as cause", () => {
    const foreign = new ForeignClickHouseError('Table x does not exist.', '60', 'UNKNOWN_TABLE')
    const mapped = asClientError(foreign)
    expect(mapped).toBeInstanceOf(ClickHouseError)
    expect(mapped).toMatchObject({
      message: 'Table x does not exist.',
      code: '60',
      type: 'UNKNOWN_TABLE',
      cause: foreign,
    })
  })

  it('leaves the client’s own errors and anything that is not from ClickHouse as they are', () => {
    const own = new ClickHouseError({ message: 'm', code: '60', type: 'UNKNOWN_TABLE' })
    const plain = new Error('socket hang up')
    const chdbCode = Object.assign(new Error('closed'), { code: 'CHDB_CLOSED' })
    for (const error of [own, plain, chdbCode, 'text']) expect(asClientError(error)).toBe(error)
  })
})
