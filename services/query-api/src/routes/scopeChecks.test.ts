import { describe, expect, it } from 'vitest'
import type { AccessScope } from '../access/accessScope.js'
import { defaultAnalystVisibility } from '../access/analystVisibility.js'
import { parseAnalystVisibility } from '../access/analystVisibilityFile.js'
import type { Reader } from '../answers/redaction.js'
import { RequestRefused } from '../requestRefused.js'
import { checkHiddenFilters, filtersOnHideableFields } from './scopeChecks.js'

const visibility = parseAnalystVisibility(
  ['tenants:', '  acme: { ip: visible, session_id: visible }', '  witify: { attributes: hidden }'].join('\n'),
  'visibility.yaml',
)
const reader = (role: AccessScope['role']): Reader => ({ role, fieldKeys: undefined, visibility })
const scope = (role: AccessScope['role'], tenants: AccessScope['tenants']): AccessScope => ({
  keyId: `${role}-key`,
  role,
  tenants,
})

/** The refusal's status and message, or undefined when the filters are allowed. */
function refusal(
  key: AccessScope,
  tenant: string | undefined,
  filters: Parameters<typeof checkHiddenFilters>[3],
  withReader: Reader = reader(key.role),
) {
  try {
    checkHiddenFilters(key, withReader, tenant, filters)
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(RequestRefused)
    return { status: (error as RequestRefused).status, message: (error as Error).message }
  }
}

const ip = filtersOnHideableFields({ ip: '203.0.113.7' })
const session = filtersOnHideableFields({ sessionId: 's-1' })

describe('filtersOnHideableFields', () => {
  it('names the filters that search by an actor detail analysts may not see', () => {
    expect(filtersOnHideableFields({ ip: '1', sessionId: '2', actor: 'u', requestId: 'r' })).toEqual([
      { filter: 'ip', field: 'ip' },
      { filter: 'session_id', field: 'session_id' },
    ])
    expect(filtersOnHideableFields({ actor: 'u-7', tenant: 'acme' })).toEqual([])
  })
})

describe('checkHiddenFilters', () => {
  it('refuses an analyst a filter on a field hidden in the tenant named, with a 403 naming the filter and why', () => {
    expect(refusal(scope('analyst', 'all'), 'witify', ip)).toEqual({
      status: 403,
      message:
        "ip: an analyst may not filter by the actor's IP address, which is hidden from analysts in tenant 'witify'",
    })
    expect(refusal(scope('analyst', 'all'), 'acme', ip)).toBeUndefined()
    expect(refusal(scope('analyst', 'all'), 'acme', session)).toBeUndefined()
  })

  it("looks at the key's tenants when none is named", () => {
    expect(refusal(scope('analyst', ['acme']), undefined, [...ip, ...session])).toBeUndefined()
    expect(refusal(scope('analyst', ['acme', 'witify']), undefined, session)?.message).toBe(
      "session_id: an analyst may not filter by the actor's session id, which is hidden from analysts in tenant 'witify'",
    )
  })

  it('refuses a key of every tenant unless the default shows the field and no tenant hides it', () => {
    expect(refusal(scope('analyst', 'all'), undefined, ip)?.message).toBe(
      "ip: an analyst may not filter by the actor's IP address, which is hidden from analysts in every tenant the file does not set otherwise",
    )
    const shownByDefault = parseAnalystVisibility(
      'default: { ip: visible }\ntenants: { witify: { ip: hidden } }',
      'v.yaml',
    )
    const allTenants = scope('analyst', 'all')
    const withDefault = { role: 'analyst', fieldKeys: undefined, visibility: shownByDefault } as const
    expect(refusal(allTenants, undefined, ip, withDefault)?.message).toContain("in tenant 'witify'")
    expect(refusal(allTenants, 'acme', ip, withDefault)).toBeUndefined()
    const shownEverywhere = parseAnalystVisibility('default: { ip: visible }', 'v.yaml')
    expect(
      refusal(allTenants, undefined, ip, { ...withDefault, visibility: shownEverywhere }),
    ).toBeUndefined()
  })

  it('refuses an alert rule filter where attributes are hidden, and applies the default when the reader has none', () => {
    const rule = [{ filter: 'rule', field: 'attributes' }] as const
    expect(refusal(scope('analyst', ['witify']), undefined, rule)?.message).toBe(
      "rule: an analyst may not filter by the event's attributes, which are hidden from analysts in tenant 'witify'",
    )
    expect(refusal(scope('analyst', ['acme']), undefined, rule)).toBeUndefined()
    const noVisibility: Reader = { role: 'analyst', fieldKeys: undefined }
    expect(refusal(scope('analyst', ['acme']), undefined, ip, noVisibility)?.status).toBe(403)
    expect(defaultAnalystVisibility.default.ip).toBe('hidden')
  })

  it('lets an auditor filter by anything', () => {
    for (const tenants of ['all', ['witify']] as const) {
      expect(refusal(scope('auditor', tenants), undefined, [...ip, ...session])).toBeUndefined()
    }
  })
})
