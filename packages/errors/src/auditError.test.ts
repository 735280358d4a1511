import { describe, expect, it } from 'vitest'
import { AuditError } from './auditError.js'

class ExampleError extends AuditError<'BROKEN' | 'GONE'> {}

describe('AuditError', () => {
  it('carries code, retriable and cause, named after its subclass', () => {
    const cause = new Error('socket hang up')
    const error = new ExampleError('GONE', 'the broker went away', true, { cause })
    expect(error).toBeInstanceOf(AuditError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('ExampleError')
    expect([error.code, error.message, error.retriable, error.cause]).toEqual([
      'GONE',
      'the broker went away',
      true,
      cause,
    ])
  })
})
