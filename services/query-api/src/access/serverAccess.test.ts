import { describe, expect, it } from 'vitest'
import { accessNames } from '@audit-pipeline/storage'
import type { AccessScope } from './accessScope.js'
import { serverQueryIdentity } from './serverAccess.js'

const scope = (tenants: AccessScope['tenants']): AccessScope => ({ keyId: 'key-7', role: 'auditor', tenants })

describe('serverQueryIdentity', () => {
  it("enables the reader role and the key's tenants' roles, and spends the key's quota", () => {
    expect(serverQueryIdentity(scope(['globex', 'acme']), 'audit')).toEqual({
      role: ['audit_reader', 'audit_tenant_61636d65', 'audit_tenant_676c6f626578'],
      quota_key: 'key-7',
    })
  })

  it('enables the all-tenants role for a key that reads every tenant', () => {
    expect(serverQueryIdentity(scope('all'), 'audit').role).toEqual(['audit_reader', 'audit_all_tenants'])
  })

  it('names the roles the access statements grant for the same database', () => {
    const names = accessNames('audit_staging')
    expect(serverQueryIdentity(scope(['acme']), 'audit_staging').role).toEqual([
      names.readerRole,
      names.tenantRole('acme'),
    ])
  })

  it('leaves a key restricted to no tenant with the reader role alone, which sees no row', () => {
    expect(serverQueryIdentity(scope([]), 'audit').role).toEqual(['audit_reader'])
  })
})
