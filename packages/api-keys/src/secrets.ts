import { createHash, randomBytes } from 'node:crypto'

/** Bytes of randomness in a secret: 256 bits, as much as the SHA-256 that stores it. */
export const secretBytes = 32

/** What making a key needs from the outside world; tests pass fixed ones. */
export type KeyEntropy = {
  /** The time the key is made at (its `created_at`). */
  nowMs: number
  /** Cryptographically strong random bytes. */
  randomBytes: (size: number) => Buffer
}

/** The clock and node:crypto's randomBytes. */
export function systemEntropy(): KeyEntropy {
  return { nowMs: Date.now(), randomBytes }
}

/** SHA-256 of a secret, as the keys file stores it. */
export function secretSha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/** A new secret: base64url, so it never holds the dot that ends the key id in a token. */
export function newSecret(entropy: KeyEntropy): string {
  return entropy.randomBytes(secretBytes).toString('base64url')
}

/** A generated key id: `key-` and 8 hex digits. */
export function newKeyId(entropy: KeyEntropy): string {
  return `key-${entropy.randomBytes(4).toString('hex')}`
}

/** What clients send after `Bearer `: `<key id>.<secret>`. */
export function tokenOf(keyId: string, secret: string): string {
  return `${keyId}.${secret}`
}
