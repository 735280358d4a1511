import { describe, expect, it } from 'vitest'
import { accessNames, readerRoles } from './accessNames.js'

describe('accessNames', () => {
  it('names everything after the database, as the operator docs spell them for `audit`', () => {
    const names = accessNames('audit')
    expect(names).toMatchObject({
      sinkWriterRole: 'audit_sink_writer',
      readerRole: 'audit_reader',
      allTenantsRole: 'audit_all_tenants',
      analystRole: 'audit_analyst',
      readerProfile: 'audit_reader_profile',
      queryApiQuota: 'audit_query_api_quota',
      analystQuota: 'audit_analyst_quota',
      sinkUser: 'audit_sink',
      queryApiUser: 'audit_query_api',
    })
    expect(accessNames('audit_staging').readerRole).toBe('audit_staging_reader')
  })

  it("names a tenant's role by the hex of its UTF-8 name, a plain identifier whatever the name", () => {
    const names = accessNames('audit')
    expect(names.tenantRole('acme')).toBe('audit_tenant_61636d65')
    expect(names.tenantRole('globex.eu:ops@x-1')).toBe(
      `audit_tenant_${Buffer.from('globex.eu:ops@x-1').toString('hex')}`,
    )
    expect(names.tenantRole('é')).toBe('audit_tenant_c3a9')
    expect(names.tenantRole('Acme')).not.toBe(names.tenantRole('acme'))
  })

  it('refuses an empty tenant and a database name that is not plain', () => {
    expect(() => accessNames('audit').tenantRole('')).toThrow('invalid tenant name: empty')
    expect(() => accessNames('audit-prod')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }))
  })
})

describe('readerRoles', () => {
  const names = accessNames('audit')

  it('names the reader role and the all-tenants role for a key that reads every tenant', () => {
    expect(readerRoles(names, 'all')).toEqual(['audit_reader', 'audit_all_tenants'])
  })

  it("names the reader role and each tenant's role once, in a stable order", () => {
    expect(readerRoles(names, ['globex', 'acme', 'globex'])).toEqual([
      'audit_reader',
      'audit_tenant_61636d65',
      'audit_tenant_676c6f626578',
    ])
  })

  it('names only the reader role for no tenant at all: its rows are none', () => {
    expect(readerRoles(names, [])).toEqual(['audit_reader'])
  })
})
