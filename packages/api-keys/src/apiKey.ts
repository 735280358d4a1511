export const roles = ['auditor', 'analyst'] as const
/** `auditor` sees sensitive values; `analyst` sees them redacted. */
export type Role = (typeof roles)[number]

/** A key as the API holds it: never the secret, only its SHA-256. */
export type ApiKey = {
  id: string
  /** SHA-256 of the secret, 32 bytes. */
  secretSha256: Buffer
  role: Role
  /** Tenants the key may read; `all` when the file lists none. */
  tenants: readonly string[] | 'all'
  /** When it was made; absent in entries written by hand. */
  createdAt?: Date
  /** From this time on the key is refused; absent: it does not expire. */
  expiresAt?: Date
  /**
   * Set by `keys revoke`: the key is refused from then on. The entry stays in the file so its id,
   * which access records name, is never given to another key.
   */
  revokedAt?: Date
}

/**
 * Tenant names a key may be restricted to. Narrower than what events accept: they are written
 * into ClickHouse's `additional_table_filters` setting for the SQL endpoint (as quoted literals,
 * but a name with nothing to quote cannot go wrong there).
 */
export const tenantNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/

/** Key ids: the part of the token before the dot, so never a dot themselves. */
export const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

export const keyIdRule = '1 to 64 of A-Z a-z 0-9 _ -, starting with a letter or digit'
export const tenantNameRule = '1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit'

export const keyStatuses = ['active', 'expired', 'revoked'] as const
export type KeyStatus = (typeof keyStatuses)[number]

/** Whether the key is usable at `nowMs`; revoked wins over expired. */
export function keyStatus(key: Pick<ApiKey, 'expiresAt' | 'revokedAt'>, nowMs: number): KeyStatus {
  if (key.revokedAt !== undefined) return 'revoked'
  if (key.expiresAt !== undefined && key.expiresAt.getTime() <= nowMs) return 'expired'
  return 'active'
}
