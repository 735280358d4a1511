import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import { readFileSync } from 'node:fs'
import { IntegrityKeyError } from './integrityKeyError.js'

/**
 * Checkpoint signing keys (Ed25519) and the document that publishes their public halves. A key is
 * named by its key id, derived from the public key itself, so a checkpoint names the key that
 * verifies it and a published document cannot label one key with another's id.
 */

export type SigningKey = { keyId: string; privateKey: KeyObject; publicKey: KeyObject }

/** Trusted public keys by key id. */
export type PublicKeySet = ReadonlyMap<string, KeyObject>

export type PublicKeysDocument = {
  keys: { key_id: string; algorithm: 'Ed25519'; public_key_pem: string }[]
}

const howToMakeOne = 'make one with: openssl genpkey -algorithm ed25519 -out signing-key.pem'

/** 'ed25519:' + the first 16 hex digits of SHA-256 of the public key's SPKI DER (of the public half, given a private key). */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`
}

/** A new Ed25519 private key, PKCS#8 PEM: what readSigningKey reads. */
export function generateSigningKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}

/**
 * The signing key in the PEM file at `path` (PKCS#8, Ed25519, unencrypted). Throws
 * IntegrityKeyError naming the path and what is wrong. The file's mode is not checked: who may
 * read it is the deployment's decision (a secret mounted group-readable for the service's group is
 * common and correct), and a refusal there would break such setups without making any safer.
 */
export function readSigningKey(path: string): SigningKey {
  let pem: string
  try {
    pem = readFileSync(path, 'utf8')
  } catch (error) {
    throw new IntegrityKeyError(path, unreadableKeyProblem(error), { cause: error })
  }
  return parseSigningKey(pem, path)
}

function unreadableKeyProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT':
      return `no such signing key file; ${howToMakeOne}`
    case 'EACCES':
    case 'EPERM':
      return 'the signing key file cannot be read: permission denied for this process'
    case 'EISDIR':
      return 'is a directory, expected a PEM file holding an Ed25519 private key'
    default:
      return `the signing key file cannot be read (${code ?? String(error)})`
  }
}

/** The signing key in `pem`, the contents of `source` (named in errors). */
export function parseSigningKey(pem: string, source: string): SigningKey {
  if (!pem.includes('-----BEGIN ')) {
    throw new IntegrityKeyError(
      source,
      `not a PEM file: expected an Ed25519 private key in PKCS#8 PEM (-----BEGIN PRIVATE KEY-----); ${howToMakeOne}`,
    )
  }
  if (pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new IntegrityKeyError(
      source,
      'is an encrypted private key; the key is read unencrypted, protected by who may read the file',
    )
  }
  if (/-----BEGIN (PUBLIC KEY|CERTIFICATE)-----/.test(pem)) {
    throw new IntegrityKeyError(source, 'holds a public key or certificate, not the private signing key')
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new IntegrityKeyError(source, `not a readable PEM private key (${reason})`, { cause: error })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new IntegrityKeyError(
      source,
      `is not an Ed25519 key (its type is ${keyTypeName(privateKey)}); checkpoints are signed with Ed25519 keys only; ${howToMakeOne}`,
    )
  }
  const publicKey = createPublicKey(privateKey)
  return { keyId: keyIdOf(publicKey), privateKey, publicKey }
}

function keyTypeName(key: KeyObject): string {
  return key.asymmetricKeyType ?? key.type
}

/** The published document of `keys` (public keys; a private key is reduced to its public half). */
export function publicKeysDocument(keys: readonly KeyObject[]): PublicKeysDocument {
  return {
    keys: keys.map((key) => {
      const publicKey = key.type === 'private' ? createPublicKey(key) : key
      if (publicKey.asymmetricKeyType !== 'ed25519') {
        throw new IntegrityKeyError(
          'public keys document',
          `a ${keyTypeName(publicKey)} key cannot be published: checkpoints are signed with Ed25519 keys only`,
        )
      }
      return {
        key_id: keyIdOf(publicKey),
        algorithm: 'Ed25519' as const,
        public_key_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      }
    }),
  }
}

/**
 * The trusted keys of a published document (JSON text read from `source`, named in errors). Each
 * key_id must be the id of its key, and each key an Ed25519 public key: a private key pasted in
 * by mistake is refused rather than silently reduced, because the document is meant to be public.
 */
export function parsePublicKeys(text: string, source: string): PublicKeySet {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new IntegrityKeyError(source, `not JSON (${reason})`, { cause: error })
  }
  const keys = isRecord(document) ? document['keys'] : undefined
  if (!Array.isArray(keys)) {
    throw new IntegrityKeyError(
      source,
      'expected a public keys document, {"keys": [{"key_id", "algorithm", "public_key_pem"}, …]}',
    )
  }
  if (keys.length === 0) throw new IntegrityKeyError(source, 'lists no keys')
  const set = new Map<string, KeyObject>()
  keys.forEach((item: unknown, index) => {
    const [keyId, key] = publicKeyOf(item, `keys[${index}]`, source)
    set.set(keyId, key)
  })
  return set
}

function publicKeyOf(item: unknown, where: string, source: string): [string, KeyObject] {
  const problem = (text: string) => new IntegrityKeyError(source, `${where}: ${text}`)
  if (!isRecord(item)) throw problem('expected an object with key_id, algorithm and public_key_pem')
  const keyId = item['key_id']
  const algorithm = item['algorithm']
  const pem = item['public_key_pem']
  if (typeof keyId !== 'string')
    throw problem('key_id is missing (a string such as ed25519:0123456789abcdef)')
  if (algorithm !== 'Ed25519')
    throw problem(`algorithm must be "Ed25519", got ${JSON.stringify(algorithm) ?? 'nothing'}`)
  if (typeof pem !== 'string')
    throw problem('public_key_pem is missing (an SPKI PEM, -----BEGIN PUBLIC KEY-----)')
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw problem('public_key_pem must be a public key in SPKI PEM (-----BEGIN PUBLIC KEY-----)')
  }
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new IntegrityKeyError(source, `${where}: public_key_pem is not a readable public key (${reason})`, {
      cause: error,
    })
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw problem(`public_key_pem is not an Ed25519 key (its type is ${keyTypeName(key)})`)
  const actualId = keyIdOf(key)
  if (actualId !== keyId) throw problem(`key_id is ${keyId} but the key's id is ${actualId}`)
  return [keyId, key]
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
