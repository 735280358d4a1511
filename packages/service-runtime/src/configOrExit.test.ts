import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, ConfigFileError } from '@audit-pipeline/config'
import { configOrExit, exitAfterStartFailure } from './configOrExit.js'
import { exitCodes } from './exitCodes.js'
import { createLogger } from './logger.js'

const routesError = () =>
  new ConfigFileError({
    code: 'CONFIG_INVALID',
    what: 'routes config',
    file: 'routes.yaml',
    problems: [
      { file: 'routes.yaml', line: 3, column: 9, path: 'routes[0].topic', message: 'expected a topic' },
    ],
  })

function spyExit() {
  const exit = vi.spyOn(process, 'exit').mockImplementation((code) => {
    throw new Error(`exit ${String(code)}`)
  })
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  return { exit, stderr }
}

describe('configOrExit', () => {
  afterEach(() => vi.restoreAllMocks())

  it('returns the configuration', () => {
    expect(configOrExit('audit-x', () => ({ port: 1 }))).toEqual({ port: 1 })
  })

  it('exits 2 with the program name and every problem on stderr', () => {
    const { exit, stderr } = spyExit()
    const problems = [{ setting: 'X_PORT', message: 'expected a port' }]
    expect(() =>
      configOrExit('audit-x', () => {
        throw new ConfigError(problems)
      }),
    ).toThrow('exit 2')
    expect(exit).toHaveBeenCalledWith(2)
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/^audit-x: [\s\S]*X_PORT: expected a port/)
  })

  it('exits 2 for a config file, naming file:line:column', () => {
    const { exit, stderr } = spyExit()
    expect(() =>
      configOrExit('audit-x', () => {
        throw routesError()
      }),
    ).toThrow('exit 2')
    expect(exit).toHaveBeenCalledWith(exitCodes.configInvalid)
    expect(String(stderr.mock.calls[0]?.[0])).toContain(
      'audit-x: invalid routes config routes.yaml (1 problem):\n  routes.yaml:3:9: routes[0].topic: expected a topic\n',
    )
  })

  it('throws other errors as they are', () => {
    expect(() =>
      configOrExit('audit-x', () => {
        throw new TypeError('bug')
      }),
    ).toThrow(TypeError)
  })
})

describe('exitAfterStartFailure', () => {
  afterEach(() => vi.restoreAllMocks())

  function run(error: unknown) {
    const lines: { level: string; msg: string }[] = []
    const log = createLogger({
      service: 'x',
      level: 'info',
      destination: {
        write: (line: string) => lines.push(JSON.parse(line) as { level: string; msg: string }),
      },
    })
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    const codes: number[] = []
    exitAfterStartFailure('audit-x', log, error, (code) => codes.push(code))
    return { codes, lines, stderr: stderr.mock.calls.map((call) => String(call[0])) }
  }

  it('exits 2 for an invalid config file found while the service is built, with its problems on stderr', () => {
    const { codes, lines, stderr } = run(routesError())
    expect(codes).toEqual([exitCodes.configInvalid])
    expect(lines).toMatchObject([{ level: 'fatal', msg: 'invalid configuration' }])
    expect(stderr.join('')).toContain('audit-x: invalid routes config routes.yaml (1 problem):')
  })

  it('exits 1 for anything else, logged', () => {
    const { codes, lines, stderr } = run(new Error('broker unreachable'))
    expect(codes).toEqual([exitCodes.failed])
    expect(lines).toMatchObject([{ level: 'fatal', msg: 'could not start' }])
    expect(stderr).toEqual([])
  })

  it('gives each outcome its own code', () => {
    expect(new Set(Object.values(exitCodes)).size).toBe(Object.keys(exitCodes).length)
    expect(exitCodes).toEqual({ stopped: 0, failed: 1, configInvalid: 2 })
  })
})
