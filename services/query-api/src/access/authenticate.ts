import { timingSafeEqual } from 'node:crypto'
import { secretSha256, type ApiKey } from './apiKeys.js'

export type Authentication = { ok: true; key: ApiKey } | { ok: false; keyId: string | null; message: string }

/** Compared against when the key id is unknown, so both paths take the same time. */
const unknownKeyHash = secretSha256('no such key')

/**
 * Checks an `Authorization: Bearer <key id>.<secret>` header against the keys. The secret is
 * hashed and compared in constant time; an unknown id is compared too, against a fixed hash, so
 * timing tells nothing about which ids exist.
 */
export function authenticate(header: string | undefined, keys: ReadonlyMap<string, ApiKey>): Authentication {
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
  return { ok: true, key }
}
