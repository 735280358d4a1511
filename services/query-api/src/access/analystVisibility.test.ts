import { describe, expect, it } from 'vitest'
import { ConfigFileError } from '@audit-pipeline/config'
import {
  defaultAnalystVisibility,
  hiddenWhere,
  visibilityIn,
  type AnalystVisibility,
} from './analystVisibility.js'
import { AnalystVisibilityFileError, parseAnalystVisibility } from './analystVisibilityFile.js'

const file = 'visibility.yaml'

/** The error's problems, one `file:line:column: path: message` line each. */
function problemsOf(text: string): string[] {
  try {
    parseAnalystVisibility(text, file)
  } catch (error) {
    expect(error).toBeInstanceOf(AnalystVisibilityFileError)
    expect(error).toBeInstanceOf(ConfigFileError)
    return (error as Error).message
      .split('\n')
      .slice(1)
      .map((line) => line.trim())
  }
  throw new Error('expected the file to be refused')
}

describe('parseAnalystVisibility', () => {
  it('reads the default and the tenants, each tenant taking the fields it leaves out from the default', () => {
    const visibility = parseAnalystVisibility(
      [
        'default: { ip: hidden, session_id: hidden, user_agent: hidden, attributes: visible }',
        'tenants:',
        '  acme: { ip: visible }          # the rest as the default',
        '  witify:',
        '    attributes: hidden',
        '  globex: {}',
      ].join('\n'),
      file,
    )
    expect(visibility.default).toEqual({
      ip: 'hidden',
      session_id: 'hidden',
      user_agent: 'hidden',
      attributes: 'visible',
    })
    expect(visibilityIn(visibility, 'acme')).toEqual({
      ip: 'visible',
      session_id: 'hidden',
      user_agent: 'hidden',
      attributes: 'visible',
    })
    expect(visibilityIn(visibility, 'witify')).toEqual({ ...visibility.default, attributes: 'hidden' })
    expect(visibilityIn(visibility, 'globex')).toEqual(visibility.default)
    expect(visibilityIn(visibility, 'not-in-the-file')).toEqual(visibility.default)
  })

  it('keeps the built-in default for what the file leaves out: IP and session id hidden', () => {
    expect(parseAnalystVisibility('tenants: { acme: { attributes: hidden } }', file)).toEqual({
      default: defaultAnalystVisibility.default,
      tenants: new Map([['acme', { ...defaultAnalystVisibility.default, attributes: 'hidden' }]]),
    })
    expect(parseAnalystVisibility('default: { ip: visible }', file).default).toEqual({
      ip: 'visible',
      session_id: 'hidden',
      user_agent: 'visible',
      attributes: 'visible',
    })
  })

  it('reads JSON too', () => {
    const json = JSON.stringify(
      { default: { user_agent: 'hidden' }, tenants: { acme: { session_id: 'visible' } } },
      null,
      '\t',
    )
    const visibility = parseAnalystVisibility(json, 'visibility.json')
    expect(visibilityIn(visibility, 'acme')).toEqual({
      ip: 'hidden',
      session_id: 'visible',
      user_agent: 'hidden',
      attributes: 'visible',
    })
  })

  it('refuses unknown keys and values, naming the file, the line and the entry', () => {
    expect(
      problemsOf(
        [
          'default: { ip: hidden, email: hidden }',
          'tenants:',
          '  acme: { ip: shown }',
          '  witify: { session_id: false, attributes: hidden }',
          'others: {}',
        ].join('\n'),
      ),
    ).toEqual([
      'visibility.yaml:1:24: default.email: unknown key; expected one of: ip, session_id, user_agent, attributes',
      'visibility.yaml:3:15: tenants.acme.ip: expected one of: visible, hidden',
      'visibility.yaml:4:25: tenants.witify.session_id: expected one of: visible, hidden',
      'visibility.yaml:5:1: others: unknown key; expected one of: default, tenants',
    ])
  })

  it('refuses a tenant with no mapping, a tenant name the keys file would refuse, and a repeated key', () => {
    expect(problemsOf('tenants:\n  acme:\n  "bad tenant": { ip: visible }\n')).toEqual([
      'visibility.yaml:2:3: tenants.acme: expected a mapping of ip, session_id, user_agent, attributes to visible or hidden',
      'visibility.yaml:3:3: tenants["bad tenant"]: expected a tenant name matching ^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$',
    ])
    const repeated = problemsOf('tenants:\n  acme: { ip: visible }\n  acme: { ip: hidden }\n')
    expect(repeated).toHaveLength(1)
    expect(repeated[0]).toMatch(/^visibility\.yaml:3:3: YAML: Map keys must be unique/)
  })

  it('refuses an empty file, a list and broken YAML, with their position', () => {
    expect(problemsOf('')).toEqual([
      'visibility.yaml:1:1: expected a mapping with `default` and/or `tenants` (services/query-api/README.md, "Analyst visibility")',
    ])
    expect(problemsOf('- ip: hidden\n')[0]).toMatch(/^visibility\.yaml:1:1: expected a mapping/)
    expect(problemsOf('default: { ip: hidden\n')[0]).toMatch(/^visibility\.yaml:\d+:\d+: YAML: /)
  })
})

describe('hiddenWhere', () => {
  const visibility: AnalystVisibility = parseAnalystVisibility(
    [
      'default: { ip: hidden, session_id: visible }',
      'tenants:',
      '  acme: { ip: visible }',
      '  witify: { session_id: hidden }',
    ].join('\n'),
    file,
  )
  const key = (tenants: readonly string[] | 'all') => ({ tenants })

  it('looks at the tenant the request names, else at the key’s tenants', () => {
    expect(hiddenWhere(visibility, 'ip', key('all'), 'acme')).toBeUndefined()
    expect(hiddenWhere(visibility, 'ip', key(['acme', 'witify']), 'acme')).toBeUndefined()
    expect(hiddenWhere(visibility, 'ip', key(['acme']), undefined)).toBeUndefined()
    expect(hiddenWhere(visibility, 'ip', key(['acme', 'witify', 'globex']), undefined)).toBe(
      "tenants 'witify', 'globex'",
    )
    expect(hiddenWhere(visibility, 'session_id', key(['acme']), undefined)).toBeUndefined()
    expect(hiddenWhere(visibility, 'session_id', key(['acme', 'witify']), undefined)).toBe("tenant 'witify'")
  })

  it('for a key of every tenant: visible only when the default shows it and no tenant hides it', () => {
    expect(hiddenWhere(visibility, 'ip', key('all'), undefined)).toBe(
      'every tenant the file does not set otherwise',
    )
    expect(hiddenWhere(visibility, 'session_id', key('all'), undefined)).toBe("tenant 'witify'")
    expect(hiddenWhere(visibility, 'attributes', key('all'), undefined)).toBeUndefined()
    expect(hiddenWhere(defaultAnalystVisibility, 'ip', key('all'), undefined)).toBeDefined()
    expect(hiddenWhere(defaultAnalystVisibility, 'session_id', key(['acme']), undefined)).toBe(
      "tenant 'acme'",
    )
  })

  it('names five tenants at most', () => {
    const tenants = ['t1', 't2', 't3', 't4', 't5', 't6', 't7']
    expect(hiddenWhere(defaultAnalystVisibility, 'ip', key(tenants), undefined)).toBe(
      "tenants 't1', 't2', 't3', 't4', 't5' and 2 more",
    )
  })
})
