import { describe, expect, it } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { listenErrorFor } from './listenError.js'

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen ${code}`), { code })
}

describe('listenErrorFor', () => {
  it.each([
    ['EADDRINUSE', 'OPS_PORT', /^127\.0\.0\.1:9464 is already in use/],
    ['EACCES', 'OPS_PORT', /^not allowed to listen on 127\.0\.0\.1:9464/],
    ['EADDRNOTAVAIL', 'OPS_HOST', /^127\.0\.0\.1 is not an address of this machine/],
  ])('names the variable to change for %s', (code, setting, message) => {
    const cause = errno(code)
    const error = listenErrorFor(cause, '127.0.0.1', 9464)
    expect(error).toBeInstanceOf(ConfigError)
    const { problems } = error as ConfigError
    expect(problems).toHaveLength(1)
    expect(problems[0]?.setting).toBe(setting)
    expect(problems[0]?.message).toMatch(message)
    expect((error as ConfigError).cause).toBe(cause)
  })

  it('passes other errors through', () => {
    const other = errno('EMFILE')
    expect(listenErrorFor(other, '127.0.0.1', 9464)).toBe(other)
  })
})
