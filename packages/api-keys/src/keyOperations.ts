import { keyStatus, type ApiKey, type KeyStatus, type Role } from './apiKey.js'
import { ApiKeysError } from './apiKeysError.js'
import { keyIdProblem, roleProblem, tenantNameProblem } from './keyRules.js'
import { newKeyId, newSecret, secretSha256, tokenOf, type KeyEntropy } from './secrets.js'

// Create, renew, revoke and list as functions from the file's keys to its next keys: the caller
// reads and writes the file (keysFileStore.ts), so these stay pure apart from the entropy given.

export type KeyRequest = {
  role: Role
  /** `all`, or at least one tenant name. */
  tenants: readonly string[] | 'all'
  /** Absent: the key does not expire. */
  expiresAt?: Date
  /** Absent: `key-<8 random hex digits>`. */
  id?: string
}

/** The file's keys with the new one, the new one, and its token: shown once, stored nowhere. */
export type CreatedKey = { keys: ApiKey[]; key: ApiKey; token: string }

/**
 * Adds a key. Its id must be new to the file, revoked keys included: access records name keys by
 * id, so an id means one key for as long as the records are kept.
 */
export function createKey(keys: readonly ApiKey[], request: KeyRequest, entropy: KeyEntropy): CreatedKey {
  checkRequest(request, entropy.nowMs)
  const id = request.id ?? freshId(keys, entropy)
  const taken = keys.find((key) => key.id === id)
  if (taken) {
    throw new ApiKeysError(
      'KEY_ID_TAKEN',
      `key id '${id}' is already in use${taken.revokedAt ? ' (by a revoked key: ids are never reused)' : ''}`,
    )
  }
  const { key, token } = newKey(id, request, entropy)
  return { keys: [...keys, key], key, token }
}

/**
 * Gives the key with `request.id` a fresh secret (in its place in the file, no longer revoked),
 * or adds it: for a key a program owns, such as the local stack's own, made again on each start.
 */
export function renewKey(
  keys: readonly ApiKey[],
  request: KeyRequest & { id: string },
  entropy: KeyEntropy,
): CreatedKey {
  checkRequest(request, entropy.nowMs)
  const { key, token } = newKey(request.id, request, entropy)
  const index = keys.findIndex((existing) => existing.id === request.id)
  const next = index < 0 ? [...keys, key] : keys.map((existing, i) => (i === index ? key : existing))
  return { keys: next, key, token }
}

export type RevokedKey = {
  keys: ApiKey[]
  key: ApiKey
  /** It was revoked before; `keys` is unchanged. */
  alreadyRevoked: boolean
}

/** Marks the key revoked at `nowMs`; its entry stays, so the id is never reused. */
export function revokeKey(keys: readonly ApiKey[], id: string, nowMs: number): RevokedKey {
  const index = keys.findIndex((key) => key.id === id)
  const found = keys[index]
  if (!found) throw new ApiKeysError('KEY_NOT_FOUND', `no key has the id '${id}'`)
  if (found.revokedAt) return { keys: [...keys], key: found, alreadyRevoked: true }
  const key: ApiKey = { ...found, revokedAt: new Date(nowMs) }
  return { keys: keys.map((existing, i) => (i === index ? key : existing)), key, alreadyRevoked: false }
}

/** A key as listings show it: never its secret or its hash. */
export type KeySummary = {
  id: string
  role: Role
  tenants: readonly string[] | 'all'
  status: KeyStatus
  createdAt?: Date
  expiresAt?: Date
  revokedAt?: Date
}

export function keySummaries(keys: readonly ApiKey[], nowMs: number): KeySummary[] {
  return keys.map(({ secretSha256: _hash, ...key }) => ({ ...key, status: keyStatus(key, nowMs) }))
}

function checkRequest(request: KeyRequest, nowMs: number): void {
  const problems = [
    ['role', roleProblem(request.role)],
    ['id', request.id === undefined ? undefined : keyIdProblem(request.id)],
    [
      'tenants',
      request.tenants !== 'all' && request.tenants.length === 0
        ? 'list at least one tenant, or `all`'
        : undefined,
    ],
    ...(request.tenants === 'all'
      ? []
      : request.tenants.map((tenant) => ['tenants', tenantNameProblem(tenant)])),
    [
      'expires_at',
      request.expiresAt !== undefined && request.expiresAt.getTime() <= nowMs
        ? `${request.expiresAt.toISOString()} is already past`
        : undefined,
    ],
  ].filter((problem): problem is [string, string] => problem[1] !== undefined)
  if (problems.length > 0) {
    throw new ApiKeysError(
      'KEY_REQUEST_INVALID',
      problems.map(([field, problem]) => `${field}: ${problem}`).join('; '),
    )
  }
}

function freshId(keys: readonly ApiKey[], entropy: KeyEntropy): string {
  const taken = new Set(keys.map((key) => key.id))
  // 32 random bits: a clash is unlikely, and another draw settles it; a source that keeps
  // drawing taken ids is broken, and looping on it would hang.
  for (let draw = 0; draw < 8; draw++) {
    const id = newKeyId(entropy)
    if (!taken.has(id)) return id
  }
  throw new ApiKeysError('KEY_ID_TAKEN', 'every generated key id drawn was taken: give the key an id')
}

function newKey(id: string, request: KeyRequest, entropy: KeyEntropy): { key: ApiKey; token: string } {
  const secret = newSecret(entropy)
  const key: ApiKey = {
    id,
    secretSha256: secretSha256(secret),
    role: request.role,
    tenants: request.tenants === 'all' ? 'all' : [...new Set(request.tenants)],
    createdAt: new Date(entropy.nowMs),
    ...(request.expiresAt && { expiresAt: request.expiresAt }),
  }
  return { key, token: tokenOf(id, secret) }
}
