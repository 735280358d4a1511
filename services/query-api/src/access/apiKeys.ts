import { createHash } from 'node:crypto'
import { z } from 'zod'

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
}

/**
 * Tenant names a key may be restricted to. Narrower than what events accept: they are written
 * into ClickHouse's `additional_table_filters` setting for the SQL endpoint (as quoted literals,
 * but a name with nothing to quote cannot go wrong there).
 */
export const tenantNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/

const keyIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

const keySchema = z
  .object({
    id: z
      .string()
      .regex(keyIdPattern, 'expected 1 to 64 of A-Z a-z 0-9 _ - (the part before the dot in the token)'),
    secret_sha256: z
      .string()
      .regex(
        /^[0-9a-f]{64}$/i,
        'expected the SHA-256 of the secret as 64 hex digits (never the secret itself)',
      ),
    role: z.enum(roles, { error: `expected one of: ${roles.join(', ')}` }),
    tenants: z
      .array(
        z.string().regex(tenantNamePattern, `expected tenant names matching ${tenantNamePattern.source}`),
      )
      .min(1, 'list at least one tenant, or leave `tenants` out for a key that reads every tenant')
      .optional(),
  })
  .strict()

const fileSchema = z.object({ keys: z.array(keySchema).min(1, 'list at least one key') }).strict()

/** Thrown when the keys file is unusable; the message names the file and the entry at fault. */
export class ApiKeysFileError extends Error {
  override readonly name = 'ApiKeysFileError'
}

/**
 * Parses the keys file (JSON: `{"keys": [{"id", "secret_sha256", "role", "tenants"?}]}`).
 * Throws ApiKeysFileError naming the file, the key's position and field, and what is accepted.
 */
export function parseApiKeys(text: string, fileName: string): ApiKey[] {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new ApiKeysFileError(`${fileName}: not JSON: ${(error as Error).message}`)
  }
  const parsed = fileSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.length === 0 ? '(file)' : issue.path.map(String).join('.')
      return `${where}: ${issue.message}`
    })
    throw new ApiKeysFileError(`${fileName}: ${problems.join('; ')}`)
  }
  const seen = new Set<string>()
  return parsed.data.keys.map((key, index) => {
    if (seen.has(key.id))
      throw new ApiKeysFileError(`${fileName}: keys.${index}.id: '${key.id}' is listed twice`)
    seen.add(key.id)
    return {
      id: key.id,
      secretSha256: Buffer.from(key.secret_sha256, 'hex'),
      role: key.role,
      tenants: key.tenants ? [...new Set(key.tenants)] : 'all',
    }
  })
}

/** SHA-256 of a secret, as the keys file stores it. */
export function secretSha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}
