import { isAbsolute, resolve } from 'node:path'
import {
  expiresAtFrom,
  keyIdProblem,
  roleProblem,
  tenantNameProblem,
  type KeyRequest,
  type Role,
} from '@audit-pipeline/api-keys'

/** `keys create`'s flags as commander hands them over: strings, unchecked. */
export type KeysCreateFlags = {
  role: string
  /** Every --tenant given, in order. */
  tenant: string[]
  expires?: string
  id?: string
}

/** The keys file a `keys` command works on, and where that choice came from, for messages. */
export type KeysFile = { path: string; origin: '--file' | 'QUERY_API_KEYS_FILE' | 'the local stack' }

/**
 * `--file`, else QUERY_API_KEYS_FILE (the file a query API started from this environment reads),
 * else the local stack's (`npm start` keeps it across restarts).
 */
export function resolveKeysFile(
  flags: { file?: string },
  env: NodeJS.ProcessEnv,
  localKeysFile: string,
  cwd = process.cwd(),
): KeysFile {
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path))
  if (flags.file !== undefined) {
    if (flags.file.trim() === '') throw new Error('--file must not be empty')
    return { path: absolute(flags.file), origin: '--file' }
  }
  const fromEnv = env['QUERY_API_KEYS_FILE']?.trim()
  if (fromEnv) return { path: absolute(fromEnv), origin: 'QUERY_API_KEYS_FILE' }
  return { path: localKeysFile, origin: 'the local stack' }
}

/** The new key's request, each bad flag named with what it accepts. */
export function parseKeysCreateFlags(flags: KeysCreateFlags, nowMs: number): KeyRequest {
  const problems: string[] = []
  const roleWrong = roleProblem(flags.role)
  if (roleWrong) problems.push(`--role ${roleWrong}`)
  for (const tenant of flags.tenant) {
    const wrong = tenantNameProblem(tenant)
    if (wrong) problems.push(`--tenant ${wrong}`)
  }
  const idWrong = flags.id === undefined ? undefined : keyIdProblem(flags.id)
  if (idWrong) problems.push(`--id ${idWrong}`)
  let expiresAt: Date | undefined
  if (flags.expires !== undefined) {
    try {
      expiresAt = expiresAtFrom(flags.expires, nowMs)
    } catch (error) {
      problems.push(`--expires ${(error as Error).message}`)
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '))
  return {
    role: flags.role as Role,
    tenants: flags.tenant.length === 0 ? 'all' : flags.tenant,
    ...(expiresAt && { expiresAt }),
    ...(flags.id !== undefined && { id: flags.id }),
  }
}

export const keysListFormats = ['table', 'json'] as const
export type KeysListFormat = (typeof keysListFormats)[number]

export function keysListFormat(value: string): KeysListFormat {
  if ((keysListFormats as readonly string[]).includes(value)) return value as KeysListFormat
  throw new Error(`--format must be one of: ${keysListFormats.join(', ')}; got '${value}'`)
}
