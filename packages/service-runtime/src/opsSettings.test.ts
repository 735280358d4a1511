import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigError, parseSettings } from '@audit-pipeline/config'
import { loadOpsSettings, opsEnvShape, opsSettingsFrom } from './opsSettings.js'

const defaults = { defaultPort: 9464 }

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadOpsSettings(env, defaults)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`)
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadOpsSettings', () => {
  it('listens on loopback at the service port and logs at info when nothing is set', () => {
    expect(loadOpsSettings({}, defaults)).toEqual({ host: '127.0.0.1', port: 9464, logLevel: 'info' })
  })

  it('reads every variable', () => {
    expect(loadOpsSettings({ OPS_HOST: '0.0.0.0', OPS_PORT: '0', LOG_LEVEL: 'debug' }, defaults)).toEqual({
      host: '0.0.0.0',
      port: 0,
      logLevel: 'debug',
    })
    expect(loadOpsSettings({ OPS_HOST: '::', OPS_PORT: '65535', LOG_LEVEL: 'silent' }, defaults)).toEqual({
      host: '::',
      port: 65535,
      logLevel: 'silent',
    })
    expect(loadOpsSettings({ OPS_HOST: 'ops.internal' }, defaults).host).toBe('ops.internal')
  })

  it('accepts a level in any case and treats empty variables as unset', () => {
    expect(loadOpsSettings({ LOG_LEVEL: 'WARN' }, defaults).logLevel).toBe('warn')
    expect(loadOpsSettings({ OPS_PORT: '', LOG_LEVEL: ' ' }, defaults)).toMatchObject({
      port: 9464,
      logLevel: 'info',
    })
  })

  it.each([
    [
      'OPS_HOST',
      '127.0.0.1:9464',
      'expected a host name or IP address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::',
    ],
    [
      'OPS_HOST',
      'http://localhost',
      'expected a host name or IP address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::',
    ],
    ['OPS_PORT', '65536', 'expected a port number from 0 to 65535 (0 picks a free port)'],
    ['OPS_PORT', '-1', 'expected a port number from 0 to 65535 (0 picks a free port)'],
    ['OPS_PORT', '94.64', 'expected a port number from 0 to 65535 (0 picks a free port)'],
    ['OPS_PORT', 'auto', 'expected a port number from 0 to 65535 (0 picks a free port)'],
    ['LOG_LEVEL', 'verbose', 'expected one of: fatal, error, warn, info, debug, trace, silent'],
  ])('names %s=%s and what it accepts', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([`${name}: ${message}`])
  })

  it('reports every bad variable at once', () => {
    expect(
      problemsOf({ OPS_HOST: 'a b', OPS_PORT: 'x', LOG_LEVEL: 'loud' }).map((p) => p.split(':')[0]),
    ).toEqual(['OPS_HOST', 'OPS_PORT', 'LOG_LEVEL'])
  })
})

describe('opsEnvShape', () => {
  it("merges into a service's own schema", () => {
    const schema = z.object({ ...opsEnvShape, SINK_BATCH_MAX_AGE_MS: z.coerce.number().default(1000) })
    const parsed = parseSettings(schema, { OPS_PORT: '9100', SINK_BATCH_MAX_AGE_MS: '250' })
    expect(parsed.SINK_BATCH_MAX_AGE_MS).toBe(250)
    expect(opsSettingsFrom(parsed, { defaultPort: 9465 })).toEqual({
      host: '127.0.0.1',
      port: 9100,
      logLevel: 'info',
    })
    expect(opsSettingsFrom(parseSettings(schema, {}), { defaultPort: 9465 }).port).toBe(9465)
  })
})
