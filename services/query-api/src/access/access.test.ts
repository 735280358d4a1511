import { describe, expect, it } from 'vitest'
import { parseApiKeys, secretSha256 } from '@audit-pipeline/api-keys'
import { authenticate } from './authenticate.js'
import { tenantTableFilters } from './tenantTableFilters.js'

const hash = (secret: string) => secretSha256(secret).toString('hex')

describe('authenticate', () => {
  const nowMs = Date.parse('2026-03-01T12:00:00Z')
  const keys = new Map(
    parseApiKeys(
      JSON.stringify({
        keys: [
          { id: 'ops', secret_sha256: hash('s3cret'), role: 'auditor' },
          {
            id: 'temp',
            secret_sha256: hash('t3mp'),
            role: 'analyst',
            expires_at: '2026-03-01T13:00:00Z',
          },
          { id: 'gone', secret_sha256: hash('g0ne'), role: 'auditor', revoked_at: '2026-02-01T00:00:00Z' },
        ],
      }),
      'k',
    ).map((key) => [key.id, key]),
  )

  it('accepts Bearer <key id>.<secret> when the secret hashes to the stored hash', () => {
    const result = authenticate('Bearer ops.s3cret', keys, nowMs)
    expect(result.ok && result.key.id).toBe('ops')
    // A secret may contain dots: only the first separates the id.
    expect(authenticate('Bearer ops.s3cret.', keys, nowMs).ok).toBe(false)
  })

  it('says what is wrong otherwise, without telling an unknown id from a wrong secret', () => {
    expect(authenticate(undefined, keys, nowMs)).toEqual({
      ok: false,
      keyId: null,
      message: 'missing API key: send Authorization: Bearer <key id>.<secret>',
    })
    expect(authenticate('ops.s3cret', keys, nowMs)).toMatchObject({ ok: false, message: /malformed/ })
    expect(authenticate('Bearer ops.wrong', keys, nowMs)).toEqual({
      ok: false,
      keyId: 'ops',
      message: 'invalid API key',
    })
    expect(authenticate('Bearer nobody.s3cret', keys, nowMs)).toEqual({
      ok: false,
      keyId: 'nobody',
      message: 'invalid API key',
    })
  })

  it('refuses a key from its expiry on, and a revoked key, telling only the holder of the secret why', () => {
    expect(authenticate('Bearer temp.t3mp', keys, Date.parse('2026-03-01T12:59:59Z')).ok).toBe(true)
    expect(authenticate('Bearer temp.t3mp', keys, Date.parse('2026-03-01T13:00:00Z'))).toEqual({
      ok: false,
      keyId: 'temp',
      message: 'API key expired',
    })
    expect(authenticate('Bearer gone.g0ne', keys, nowMs)).toEqual({
      ok: false,
      keyId: 'gone',
      message: 'API key revoked',
    })
    expect(authenticate('Bearer temp.wrong', keys, Date.parse('2026-03-02T00:00:00Z'))).toMatchObject({
      message: 'invalid API key',
    })
    expect(authenticate('Bearer gone.wrong', keys, nowMs)).toMatchObject({ message: 'invalid API key' })
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
        "'audit_actions_hourly': 'tenant IN (''acme'', ''beta'')', 'audit.audit_actions_hourly': 'tenant IN (''acme'', ''beta'')', " +
        "'audit_record_latest': 'tenant IN (''acme'', ''beta'')', 'audit.audit_record_latest': 'tenant IN (''acme'', ''beta'')'}",
    )
  })
})
