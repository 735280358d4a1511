import { describe, expect, it } from 'vitest'
import { ConfigError } from './configError.js'
import { ConfigFileError, formatConfigFileProblem, isConfigInvalid } from './configFileError.js'

describe('ConfigFileError', () => {
  it('lists every problem as file:line:column: path (item): message, under one line naming the file', () => {
    const error = new ConfigFileError({
      code: 'CONFIG_INVALID',
      what: 'routes config',
      file: 'routes.yaml',
      problems: [
        {
          file: 'routes.yaml',
          line: 4,
          column: 11,
          path: 'routes[0].topic',
          message: 'expected a topic name',
        },
        { file: 'routes.yaml', line: 9, column: 1, path: '', message: 'YAML: bad indentation' },
      ],
      itemOf: (problem) => (problem.path === '' ? undefined : 'route audit'),
    })
    expect(error.message).toBe(
      [
        'invalid routes config routes.yaml (2 problems):',
        '  routes.yaml:4:11: routes[0].topic (route audit): expected a topic name',
        '  routes.yaml:9:1: YAML: bad indentation',
      ].join('\n'),
    )
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      retriable: false,
      file: 'routes.yaml',
      line: 4,
      column: 11,
    })
    expect(error.name).toBe('ConfigFileError')
  })

  it('names the file alone when the format gives no position', () => {
    expect(
      formatConfigFileProblem({ file: 'keys.json', path: 'keys.0.role', message: 'expected one of: a, b' }),
    ).toBe('keys.json: keys.0.role: expected one of: a, b')
    expect(formatConfigFileProblem({ file: 'keys.json', path: '', message: 'not JSON' })).toBe(
      'keys.json: not JSON',
    )
  })

  it('keeps the code of a package with its own list, and the subclass name', () => {
    class KeysError extends ConfigFileError<
      { file: string; path: string; message: string },
      'KEYS_INVALID'
    > {}
    const error = new KeysError({
      code: 'KEYS_INVALID',
      what: 'keys file',
      file: 'k.json',
      problems: [{ file: 'k.json', path: '', message: 'empty' }],
    })
    expect(error).toBeInstanceOf(ConfigFileError)
    expect(error).toMatchObject({ code: 'KEYS_INVALID', name: 'KeysError', line: undefined })
    expect(error.message).toBe('invalid keys file k.json (1 problem):\n  k.json: empty')
  })
})

describe('isConfigInvalid', () => {
  it('is true for an invalid setting or config file, and nothing else', () => {
    expect(isConfigInvalid(new ConfigError([{ setting: 'X_PORT', message: 'expected a port' }]))).toBe(true)
    const fileError = new ConfigFileError({
      code: 'CONFIG_INVALID',
      what: 'rules',
      file: 'r.yaml',
      problems: [],
    })
    expect(isConfigInvalid(fileError)).toBe(true)
    expect(isConfigInvalid(new Error('CONFIG_INVALID'))).toBe(false)
    expect(isConfigInvalid({ code: 'CONFIG_INVALID' })).toBe(false)
  })
})
