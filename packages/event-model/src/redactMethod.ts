import { createHmac } from 'node:crypto'
import { writeJsonText, type JsonTree } from './jsonValueTree.js'

/**
 * How a sensitive value is hidden. Either way the change stays visible, only its value does not.
 *
 * - `hash`: the value becomes the string `hmac-sha256:<64 hex digits>`, an HMAC-SHA256 of its
 *   canonical JSON text (keys sorted, no whitespace, string escapes decoded, numbers as written)
 *   under `hmacKey`. Equal values give equal strings wherever they appear (change or snapshot),
 *   whatever the key order or whitespace they came with, so an analyst can still tell "changed"
 *   from "set to the same value" and follow a value across events. A keyed hash rather than a
 *   plain SHA-256, because an e-mail address or a card number is easy to guess and a plain hash
 *   of a guess would confirm it; the prefix says so. Keep the key secret and stable: another key
 *   gives other strings.
 * - `drop`: the value becomes the string `[redacted]`: no trace of the value, not even equality.
 * - `encrypt`: the value becomes a sealed value (`enc:v1:…`, packages/field-encryption), which
 *   those allowed to read it can open again. `seal` is bound to one event (its tenant and id).
 */
export type RedactionMethod =
  | { mode: 'hash'; hmacKey: string | Uint8Array }
  | { mode: 'drop' }
  | { mode: 'encrypt'; seal: (value: JsonTree) => string }

export const redactedHashPrefix = 'hmac-sha256:'
export const droppedValue = '[redacted]'

const hashedValue = /^hmac-sha256:[0-9a-f]{64}$/

/**
 * A sealed (encrypted) value: `enc:v1:<key id>:<blind index>:<iv, ciphertext and tag>`, written
 * and opened by packages/field-encryption. Defined here so every redaction recognises one.
 */
export const sealedValuePattern = /^enc:v1:([A-Za-z0-9_-]{1,64}):([0-9a-f]{16}):([A-Za-z0-9_-]{38,})$/

/** Stored after a sealed value whose key was destroyed by an erasure, where a reader would see it. */
export const erasedValue = '[erased]'

/**
 * Whether a value is already a replacement (`[redacted]`, `hmac-sha256:<64 hex>` or a sealed
 * value). Redaction leaves these alone, so it can run twice (the producer, then the normalizer's
 * tenant policy) without hashing a hash or encrypting a ciphertext.
 */
export function isRedactedValue(value: JsonTree): boolean {
  return (
    typeof value === 'string' &&
    (value === droppedValue || hashedValue.test(value) || sealedValuePattern.test(value))
  )
}

/** The string that takes a sensitive value's place, under the given method; a replacement stays as it is. */
export function replacementFor(method: RedactionMethod): (value: JsonTree) => string {
  if (method.mode === 'drop') return (value) => (isRedactedValue(value) ? (value as string) : droppedValue)
  if (method.mode === 'encrypt') {
    const { seal } = method
    return (value) => (isRedactedValue(value) ? (value as string) : seal(value))
  }
  const { hmacKey } = method
  // An empty key is a plain hash anyone can recompute: refuse it rather than protect nothing.
  if (hmacKey.length === 0) throw new RangeError('hmacKey must not be empty')
  return (value) =>
    isRedactedValue(value)
      ? (value as string)
      : redactedHashPrefix +
        createHmac('sha256', hmacKey)
          .update(writeJsonText(value, { sortKeys: true }), 'utf8')
          .digest('hex')
}
