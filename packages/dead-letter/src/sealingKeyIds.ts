import { createHash } from 'node:crypto'

/** Between the key ids of the `audit-dlq-sealed` header: key ids are letters, digits, `_` and `-`. */
export const keyIdSeparator = ','

/** The ids of the keys a dead letter is sealed under (its `audit-dlq-sealed` header), in order. */
export function sealedKeyIds(sealing: { keyId: string }): string[] {
  return sealing.keyId.split(keyIdSeparator)
}

/**
 * The id of the key a dead letter's error message is sealed under, for its `audit-dlq-sealed`
 * header: the one key's, or for several that of the key derived from them (`letterKey`).
 */
export function sealingKeyId(header: string): string {
  const ids = header.split(keyIdSeparator)
  return ids.length === 1
    ? header
    : `m${createHash('sha256').update(header).digest('base64url').slice(0, 22)}`
}
