import { describe, expect, it } from 'vitest'
import { ClickHouseError } from '@audit-pipeline/storage'
import { insertFailure } from './insertFailure.js'

const clickhouse = (type: string, code = '27') => new ClickHouseError({ message: `${type}: …`, code, type })

describe('insertFailure', () => {
  it('dead-letters only rows ClickHouse says it cannot parse or store', () => {
    expect(insertFailure(clickhouse('CANNOT_PARSE_INPUT_ASSERTION_FAILED'))).toBe('rows-rejected')
    expect(insertFailure(clickhouse('CANNOT_PARSE_DATETIME', '41'))).toBe('rows-rejected')
    expect(insertFailure(clickhouse('TYPE_MISMATCH', '53'))).toBe('rows-rejected')
  })

  it('retries outages, overload and operator problems', () => {
    expect(insertFailure(clickhouse('TOO_MANY_PARTS', '252'))).toBe('retry')
    expect(insertFailure(clickhouse('MEMORY_LIMIT_EXCEEDED', '241'))).toBe('retry')
    expect(insertFailure(clickhouse('UNKNOWN_TABLE', '60'))).toBe('retry')
    expect(
      insertFailure(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe('retry')
    expect(insertFailure(new Error('Timeout error.'))).toBe('retry')
  })
})
