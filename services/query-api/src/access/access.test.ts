import { describe, expect, it } from 'vitest'
import { parseApiKeys, secretSha256 } from './apiKeys.js'
import { authenticate } from './authenticate.js'
import { tenantTableFilters } from './tenantTableFilters.js'

const hash = (secret: string) => secretSha256(secret).toString('hex')

describe('parseApiKeys', () => {
  it('reads keys with their role and tenants, holding only the hash of each secret', () => {
    const keys = parseApiKeys(
      JSON.stringify({
        keys: [
          { id: 'ops', secret_sha256: hash('s1'), role: 'auditor' },
          { id: 'acme-bi', secret_sha256: hash('s2'), role: 'analyst', tenants: ['acme', 'acme'] },
        ],
      }),
      'keys.json',
    )
    expect(keys).toEqual([
      { id: 'ops', secretSha256: secretSha256('s1'), role: 'auditor', tenants: 'all' },
      { id: 'acme-bi', secretSha256: secretSha256('s2'), role: 'analyst', tenants: ['acme'] },
    ])
  })

  it('names the file, the key and the field at fault', () => {
    const parse = (keys: unknown[]) => () => parseApiKeys(JSON.stringify({ keys }), 'keys.json')
    expect(() => parseApiKeys('{', 'keys.json')).toThrow(/^keys.json: not JSON/)
    expect(parse([{ id: 'a', secret_sha256: 'plain-secret', role: 'auditor' }])).toThrow(
      'keys.json: keys.0.secret_sha256: expected the SHA-256 of the secret as 64 hex digits (never the secret itself)',
    )
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'admin' }])).toThrow(
      'keys.json: keys.0.role: expected one of: auditor, analyst',
    )
    expect(
      parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', tenants: ["acme' OR 1=1"] }]),
    ).toThrow('keys.json: keys.0.tenants.0: expected tenant names matching')
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', tenants: [] }])).toThrow(
      'list at least one tenant',
    )
    expect(
      parse([
        { id: 'a', secret_sha256: hash('x'), role: 'analyst' },
        { id: 'a', secret_sha256: hash('y'), role: 'analyst' },
      ]),
    ).toThrow("keys.json: keys.1.id: 'a' is listed twice")
    expect(parse([{ id: 'a', secret_sha256: hash('x'), role: 'analyst', secret: 'x' }])).toThrow(
      /keys.0: Unrecognized key/,
    )
  })
})

describe('authenticate', () => {
  const keys = new Map(
    parseApiKeys(
      JSON.stringify({ keys: [{ id: 'ops', secret_sha256: hash('s3cret'), role: 'auditor' }] }),
      'k',
    ).map((key) => [key.id, key]),
  )

  it('accepts Bearer <key id>.<secret> when the secret hashes to the stored hash', () => {
    const result = authenticate('Bearer ops.s3cret', keys)
    expect(result.ok && result.key.id).toBe('ops')
    // A secret may contain dots: only the first separates the id.
    expect(authenticate('Bearer ops.s3cret.', keys).ok).toBe(false)
  })

  it('says what is wrong otherwise, without telling an unknown id from a wrong secret', () => {
    expect(authenticate(undefined, keys)).toEqual({
      ok: false,
      keyId: null,
      message: 'missing API key: send Authorization: Bearer <key id>.<secret>',
    })
    expect(authenticate('ops.s3cret', keys)).toMatchObject({ ok: false, message: /malformed/ })
    expect(authenticate('Bearer ops.wrong', keys)).toEqual({
      ok: false,
      keyId: 'ops',
      message: 'invalid API key',
    })
    expect(authenticate('Bearer nobody.s3cret', keys)).toEqual({
      ok: false,
      keyId: 'nobody',
      message: 'invalid API key',
    })
  })
})

describe('tenantTableFilters', () => {
  it('filters each audit table, plain and qualified, by the scope tenants', () => {
    expect(tenantTableFilters({ keyId: 'k', role: 'auditor', tenants: 'all' }, 'audit')).toBeUndefined()
    const filters = tenantTableFilters({ keyId: 'k', role: 'auditor', tenants: ['acme', 'beta'] }, 'audit')
    expect(filters).toBe(
      "{'audit_events': 'tenant IN (''acme'', ''beta'')', 'audit.audit_events': 'tenant IN (''acme'', ''beta'')', " +
        "'audit_events_deduplicated': 'tenant IN (''acme'', ''beta'')', 'audit.audit_events_deduplicated': 'tenant IN (''acme'', ''beta'')', " +
        "'audit_changes': 'tenant IN (''acme'', ''beta'')', 'audit.audit_changes': 'tenant IN (''acme'', ''beta'')', " +
        "'audit_actions_hourly': 'tenant IN (''acme'', ''beta'')', 'audit.audit_actions_hourly': 'tenant IN (''acme'', ''beta'')'}",
    )
  })
})
