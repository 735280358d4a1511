import { z } from 'zod'
import { keyIdPattern, keyIdRule, roles, tenantNamePattern, type ApiKey } from './apiKey.js'
import { KeysFileError } from './apiKeysError.js'
import { isoTimeRule, parseIsoTime } from './isoTime.js'

const isoTime = z.string().refine((text) => parseIsoTime(text) !== undefined, `expected ${isoTimeRule}`)

const keySchema = z
  .object({
    id: z.string().regex(keyIdPattern, `expected ${keyIdRule} (the part before the dot in the token)`),
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
    created_at: isoTime.optional(),
    expires_at: isoTime.optional(),
    revoked_at: isoTime.optional(),
  })
  .strict()

type KeyEntry = z.infer<typeof keySchema>

const fileSchema = z.object({ keys: z.array(keySchema).min(1, 'list at least one key') }).strict()

/**
 * Parses the keys file (JSON: `{"keys": [{"id", "secret_sha256", "role", "tenants"?, "created_at"?,
 * "expires_at"?, "revoked_at"?}]}`). Throws KeysFileError (KEYS_FILE_INVALID) listing every
 * problem with the file, the key's position and field, and what is accepted.
 */
export function parseApiKeys(text: string, fileName: string): ApiKey[] {
  const problem = (path: readonly PropertyKey[], message: string) => ({
    file: fileName,
    path: path.map(String).join('.'),
    message,
  })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new KeysFileError(fileName, [problem([], `not JSON: ${(error as Error).message}`)])
  }
  const parsed = fileSchema.safeParse(raw)
  if (!parsed.success) {
    throw new KeysFileError(
      fileName,
      parsed.error.issues.map((issue) => problem(issue.path, issue.message)),
    )
  }
  const firstIndex = new Map<string, number>()
  const repeated = parsed.data.keys.flatMap((entry, index) => {
    if (!firstIndex.has(entry.id)) firstIndex.set(entry.id, index)
    return firstIndex.get(entry.id) === index
      ? []
      : [problem(['keys', index, 'id'], `'${entry.id}' is listed twice`)]
  })
  if (repeated.length > 0) throw new KeysFileError(fileName, repeated)
  return parsed.data.keys.map(keyFromEntry)
}

/** The file's text for `keys`: what parseApiKeys reads back as the same keys. */
export function formatApiKeys(keys: readonly ApiKey[]): string {
  return `${JSON.stringify({ keys: keys.map(entryFromKey) }, null, 2)}\n`
}

function keyFromEntry(entry: KeyEntry): ApiKey {
  const time = (text: string | undefined) => (text === undefined ? undefined : parseIsoTime(text))
  const createdAt = time(entry.created_at)
  const expiresAt = time(entry.expires_at)
  const revokedAt = time(entry.revoked_at)
  return {
    id: entry.id,
    secretSha256: Buffer.from(entry.secret_sha256, 'hex'),
    role: entry.role,
    tenants: entry.tenants ? [...new Set(entry.tenants)] : 'all',
    ...(createdAt && { createdAt }),
    ...(expiresAt && { expiresAt }),
    ...(revokedAt && { revokedAt }),
  }
}

function entryFromKey(key: ApiKey): KeyEntry {
  return {
    id: key.id,
    role: key.role,
    ...(key.tenants !== 'all' && { tenants: [...key.tenants] }),
    secret_sha256: key.secretSha256.toString('hex'),
    ...(key.createdAt && { created_at: key.createdAt.toISOString() }),
    ...(key.expiresAt && { expires_at: key.expiresAt.toISOString() }),
    ...(key.revokedAt && { revoked_at: key.revokedAt.toISOString() }),
  }
}
