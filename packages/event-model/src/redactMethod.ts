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
 */
export type RedactionMethod = { mode: 'hash'; hmacKey: string | Uint8Array } | { mode: 'drop' }

export const redactedHashPrefix = 'hmac-sha256:'
export const droppedValue = '[redacted]'

const hashedValue = /^hmac-sha256:[0-9a-f]{64}$/

/**
 * Whether a value is already a replacement (`[redacted]` or `hmac-sha256:<64 hex>`). Redaction
 * leaves these alone, so it can run twice (the producer, then the normalizer's tenant policy)
 * without hashing a hash.
 */
export function isRedactedValue(value: JsonTree): boolean {
  return typeof value === 'string' && (value === droppedValue || hashedValue.test(value))
}

/** The string that takes a sensitive value's place, under the given method; a replacement stays as it is. */
export function replacementFor(method: RedactionMethod): (value: JsonTree) => string {
  if (method.mode === 'drop') return (value) => (isRedactedValue(value) ? (value as string) : droppedValue)
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
