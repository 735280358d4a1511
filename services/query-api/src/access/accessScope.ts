import type { ApiKey, Role } from '@audit-pipeline/api-keys'

/** What a request may see: derived from its key, applied in the SQL, never left to the client. */
export type AccessScope = {
  keyId: string
  role: Role
  tenants: readonly string[] | 'all'
}

export function scopeOf(key: ApiKey): AccessScope {
  return { keyId: key.id, role: key.role, tenants: key.tenants }
}

/** Whether the scope lets the key read `tenant`. */
export function mayReadTenant(scope: AccessScope, tenant: string): boolean {
  return scope.tenants === 'all' || scope.tenants.includes(tenant)
}
