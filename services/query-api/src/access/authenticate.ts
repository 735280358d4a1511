import { timingSafeEqual } from 'node:crypto'
import { keyStatus, secretSha256, type ApiKey } from '@audit-pipeline/api-keys'

export type Authentication = { ok: true; key: ApiKey } | { ok: false; keyId: string | null; message: string }

/** The keys by id: a Map in tests, the KeyRing that follows the keys file in the process. */
export type ApiKeyLookup = { get(id: string): ApiKey | undefined }

/** Compared against when the key id is unknown, so both paths take the same time. */
const unknownKeyHash = secretSha256('no such key')

/**
 * Checks an `Authorization: Bearer <key id>.<secret>` header against the keys at `nowMs`. The
 * secret is hashed and compared in constant time; an unknown id is compared too, against a fixed
 * hash, so timing tells nothing about which ids exist. Only a caller holding the right secret
 * learns that its key expired or was revoked; anyone else is told 'invalid API key'.
 */
export function authenticate(header: string | undefined, keys: ApiKeyLookup, nowMs: number): Authentication {
  if (header === undefined || header.trim() === '') {
    return {
      ok: false,
      keyId: null,
      message: 'missing API key: send Authorization: Bearer <key id>.<secret>',
    }
  }
  const match = /^Bearer\s+([^.\s]+)\.(\S+)$/i.exec(header.trim())
  if (!match) {
    return {
      ok: false,
      keyId: null,
      message: 'malformed Authorization header: expected Bearer <key id>.<secret>',
    }
  }
  const [, keyId = '', secret = ''] = match
  const key = keys.get(keyId)
  const equal = timingSafeEqual(secretSha256(secret), key?.secretSha256 ?? unknownKeyHash)
  if (!key || !equal) return { ok: false, keyId, message: 'invalid API key' }
  switch (keyStatus(key, nowMs)) {
    case 'revoked':
      return { ok: false, keyId, message: 'API key revoked' }
    case 'expired':
      return { ok: false, keyId, message: 'API key expired' }
    case 'active':
      return { ok: true, key }
  }
}
