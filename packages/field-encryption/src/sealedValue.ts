import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto'
import { parseJsonText, sealedValuePattern, writeJsonText, type JsonTree } from '@audit-pipeline/event-model'

/** A data key in the clear, as a KeyStore hands it out: 32 bytes for AES-256-GCM. */
export type DataKey = {
  readonly id: string
  readonly tenant: string
  readonly key: Buffer
}

/** Which event a value is sealed for: its ciphertext opens only there. */
export type SealContext = { readonly tenant: string; readonly eventId: string }

const ivBytes = 12
const tagBytes = 16

/**
 * Seals one value. The result is the string `enc:v1:<key id>:<blind index>:<payload>`, where the
 * payload is base64url of IV ‖ AES-256-GCM ciphertext ‖ tag over the value's JSON text, and the
 * additional data is `enc:v1:<key id>` NUL tenant NUL event id, so a sealed value copied into
 * another event, tenant or key id does not open.
 *
 * The IV is synthetic (an HMAC of the context and the plaintext under a key derived from the data
 * key), so the same value sealed again for the same event gives the same string: an event the
 * normalizer handles twice after a crash is an exact copy, and its content digest is the same.
 * Two different plaintexts share an IV with probability 2^-96, so GCM's nonce rule holds.
 *
 * The blind index is the first 8 bytes of HMAC-SHA256 under the tenant's index key over the
 * value's canonical JSON text (keys sorted): equal values of a tenant have equal indexes, so
 * equality search works without opening anything; 64 bits leave confirming a guessed value to
 * whoever holds the index key.
 */
export function sealValue(value: JsonTree, dataKey: DataKey, indexKey: Buffer, context: SealContext): string {
  const plaintext = Buffer.from(writeJsonText(value, { sortKeys: false }), 'utf8')
  const payload = encrypt(plaintext, dataKey, additionalData(dataKey.id, context)).toString('base64url')
  return `enc:v1:${dataKey.id}:${blindIndex(value, indexKey)}:${payload}`
}

/** The blind index sealValue writes for `value` (16 hex digits), for equality search. */
export function blindIndex(value: JsonTree, indexKey: Buffer): string {
  return createHmac('sha256', indexKey)
    .update(writeJsonText(value, { sortKeys: true }), 'utf8')
    .digest('hex')
    .slice(0, 16)
}

/** The parts of a sealed value, or undefined when the string is not one. */
export function parseSealedValue(
  text: string,
): { keyId: string; blindIndex: string; payload: Buffer } | undefined {
  const match = sealedValuePattern.exec(text)
  if (!match) return undefined
  const payload = Buffer.from(match[3] as string, 'base64url')
  if (payload.length < ivBytes + tagBytes + 1) return undefined
  return { keyId: match[1] as string, blindIndex: match[2] as string, payload }
}

/**
 * The value inside a sealed value, or undefined when it does not open with this key in this
 * context (another key, another event, or bytes changed): a forged or moved value reads as
 * unreadable, never as something else.
 */
export function openSealedValue(text: string, dataKey: DataKey, context: SealContext): JsonTree | undefined {
  const parsed = parseSealedValue(text)
  if (!parsed || parsed.keyId !== dataKey.id) return undefined
  const plaintext = decrypt(parsed.payload, dataKey, additionalData(dataKey.id, context))
  if (plaintext === undefined) return undefined
  try {
    return parseJsonText(plaintext.toString('utf8'), 'sealed value')
  } catch {
    return undefined
  }
}

/**
 * Seals raw bytes (a whole message, say) under a data key: IV ‖ AES-256-GCM ciphertext ‖ tag, 28
 * bytes more than the input, with no blind index (bytes are not searched by value). The IV and
 * the additional data are sealValue's, with `enc:v1:bytes:<key id>` in place of `enc:v1:<key id>`
 * so a sealed value and sealed bytes never open as each other. The key id is not in the output:
 * whoever stores the bytes keeps it beside them.
 */
export function sealBytes(bytes: Buffer, dataKey: DataKey, context: SealContext): Buffer {
  return encrypt(bytes, dataKey, bytesAdditionalData(dataKey.id, context))
}

/** The bytes sealBytes sealed, or undefined when they do not open with this key in this context. */
export function openSealedBytes(sealed: Buffer, dataKey: DataKey, context: SealContext): Buffer | undefined {
  return decrypt(sealed, dataKey, bytesAdditionalData(dataKey.id, context))
}

/** IV ‖ AES-256-GCM ciphertext ‖ tag, the IV synthetic (sealValue says why). */
function encrypt(plaintext: Buffer, dataKey: DataKey, aad: Buffer): Buffer {
  const iv = createHmac('sha256', ivKeyOf(dataKey))
    .update(aad)
    .update('\u0000')
    .update(plaintext)
    .digest()
    .subarray(0, ivBytes)
  const cipher = createCipheriv('aes-256-gcm', dataKey.key, iv)
  cipher.setAAD(aad)
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

/** What encrypt sealed, or undefined when it does not open (another key or context, bytes changed). */
function decrypt(sealed: Buffer, dataKey: DataKey, aad: Buffer): Buffer | undefined {
  if (sealed.length < ivBytes + tagBytes) return undefined
  const decipher = createDecipheriv('aes-256-gcm', dataKey.key, sealed.subarray(0, ivBytes))
  decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes))
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(ivBytes, sealed.length - tagBytes)),
      decipher.final(),
    ])
  } catch {
    return undefined
  }
}

/** How many bytes sealBytes makes of `bytes` bytes. */
export const sealedBytesLength = (bytes: number): number => bytes + ivBytes + tagBytes

function bytesAdditionalData(keyId: string, context: SealContext): Buffer {
  return Buffer.from(
    `enc:v1:bytes:${keyId}\u0000${context.tenant}\u0000${context.eventId.toLowerCase()}`,
    'utf8',
  )
}

function additionalData(keyId: string, context: SealContext): Buffer {
  // Event ids are stored lower case (the UUID column): seal and open agree whatever case came in.
  return Buffer.from(`enc:v1:${keyId}\u0000${context.tenant}\u0000${context.eventId.toLowerCase()}`, 'utf8')
}

const ivKeys = new WeakMap<Buffer, Buffer>()

/** A key for the synthetic IV, derived from the data key so the AES key does not also key the HMAC. */
function ivKeyOf(dataKey: DataKey): Buffer {
  let ivKey = ivKeys.get(dataKey.key)
  if (!ivKey) {
    ivKey = Buffer.from(
      hkdfSync('sha256', dataKey.key, Buffer.alloc(0), 'audit-pipeline sealed value iv', 32),
    )
    ivKeys.set(dataKey.key, ivKey)
  }
  return ivKey
}
