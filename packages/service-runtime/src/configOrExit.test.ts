import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError } from '@audit-pipeline/config'
import { configOrExit } from './configOrExit.js'

describe('configOrExit', () => {
  afterEach(() => vi.restoreAllMocks())

  it('returns the configuration', () => {
    expect(configOrExit('audit-x', () => ({ port: 1 }))).toEqual({ port: 1 })
  })

  it('exits 2 with the program name and every problem on stderr', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${String(code)}`)
    })
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const problems = [{ setting: 'X_PORT', message: 'expected a port' }]
    expect(() =>
      configOrExit('audit-x', () => {
        throw new ConfigError(problems)
      }),
    ).toThrow('exit 2')
    expect(exit).toHaveBeenCalledWith(2)
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/^audit-x: [\s\S]*X_PORT: expected a port/)
  })

  it('throws other errors as they are', () => {
    expect(() =>
      configOrExit('audit-x', () => {
        throw new TypeError('bug')
      }),
    ).toThrow(TypeError)
  })
})
