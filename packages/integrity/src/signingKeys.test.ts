import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { IntegrityKeyError } from './integrityKeyError.js'
import {
  generateSigningKeyPem,
  keyIdOf,
  parsePublicKeys,
  publicKeysDocument,
  readSigningKey,
} from './signingKeys.js'

const folder = mkdtempSync(join(tmpdir(), 'integrity-keys-'))
afterAll(() => rmSync(folder, { recursive: true, force: true }))

function keyFile(name: string, contents: string): string {
  const path = join(folder, name)
  writeFileSync(path, contents, { mode: 0o600 })
  return path
}

describe('signing keys', () => {
  it('reads a generated PKCS#8 Ed25519 key, with its key id', () => {
    const pem = generateSigningKeyPem()
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
    const key = readSigningKey(keyFile('good.pem', pem))
    expect(key.privateKey.asymmetricKeyType).toBe('ed25519')
    expect(key.publicKey.type).toBe('public')
    expect(key.keyId).toMatch(/^ed25519:[0-9a-f]{16}$/)
    expect(keyIdOf(key.publicKey)).toBe(key.keyId)
    expect(keyIdOf(key.privateKey)).toBe(key.keyId)
  })

  it('names the file and the problem when the key cannot be used', () => {
    const missing = join(folder, 'missing.pem')
    const problems: [string, RegExp][] = [
      [missing, /missing\.pem: no such signing key file; make one with: openssl genpkey -algorithm ed25519/],
      [folder, /: is a directory, expected a PEM file holding an Ed25519 private key$/],
      [
        keyFile('text.pem', 'not a key'),
        /text\.pem: not a PEM file: expected an Ed25519 private key in PKCS#8 PEM/,
      ],
      [
        keyFile('rsa.pem', rsaPem()),
        /rsa\.pem: is not an Ed25519 key \(its type is rsa\); checkpoints are signed with Ed25519 keys only/,
      ],
      [
        keyFile('public.pem', publicPem()),
        /public\.pem: holds a public key or certificate, not the private signing key/,
      ],
      [keyFile('encrypted.pem', encryptedPem()), /encrypted\.pem: is an encrypted private key/],
      [
        keyFile('broken.pem', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
        /broken\.pem: not a readable PEM private key/,
      ],
    ]
    for (const [path, message] of problems) {
      const attempt = () => readSigningKey(path)
      expect(attempt).toThrow(IntegrityKeyError)
      expect(attempt).toThrow(message)
    }
    try {
      readSigningKey(missing)
    } catch (error) {
      expect(error).toMatchObject({ code: 'INTEGRITY_KEY_INVALID', retriable: false, source: missing })
    }
  })
})

describe('published public keys', () => {
  const one = readSigningKey(keyFile('one.pem', generateSigningKeyPem()))
  const two = readSigningKey(keyFile('two.pem', generateSigningKeyPem()))

  it('round-trips through the published document, private keys reduced to their public half', () => {
    const document = publicKeysDocument([one.publicKey, two.privateKey])
    expect(document.keys.map((key) => key.key_id)).toEqual([one.keyId, two.keyId])
    expect(document.keys[0]).toMatchObject({ algorithm: 'Ed25519' })
    expect(document.keys[1]?.public_key_pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/)
    const keys = parsePublicKeys(JSON.stringify(document), 'keys.json')
    expect([...keys.keys()]).toEqual([one.keyId, two.keyId])
    expect(keys.get(two.keyId)?.equals(two.publicKey)).toBe(true)
  })

  it('names the source and the problem in a bad document', () => {
    const entry = publicKeysDocument([one.publicKey]).keys[0] as Record<string, unknown>
    const bad: [string, RegExp][] = [
      ['{"keys": [', /^keys\.json: not JSON \(/],
      ['[]', /^keys\.json: expected a public keys document/],
      ['{"keys": []}', /^keys\.json: lists no keys$/],
      [
        JSON.stringify({ keys: [{ ...entry, key_id: undefined }] }),
        /^keys\.json: keys\[0\]: key_id is missing/,
      ],
      [
        JSON.stringify({ keys: [{ ...entry, algorithm: 'RSA' }] }),
        /^keys\.json: keys\[0\]: algorithm must be "Ed25519", got "RSA"/,
      ],
      [
        JSON.stringify({ keys: [entry, { ...entry, public_key_pem: undefined }] }),
        /^keys\.json: keys\[1\]: public_key_pem is missing/,
      ],
      [
        JSON.stringify({ keys: [{ ...entry, key_id: two.keyId }] }),
        new RegExp(`keys\\[0\\]: key_id is ${two.keyId} but the key's id is ${one.keyId}`),
      ],
      [
        JSON.stringify({ keys: [{ ...entry, public_key_pem: generateSigningKeyPem() }] }),
        /keys\[0\]: public_key_pem must be a public key in SPKI PEM/,
      ],
      [
        JSON.stringify({ keys: [{ ...entry, public_key_pem: publicPem() }] }),
        /keys\[0\]: public_key_pem is not an Ed25519 key \(its type is rsa\)/,
      ],
    ]
    for (const [text, message] of bad) {
      expect(() => parsePublicKeys(text, 'keys.json')).toThrow(message)
    }
  })
})

function rsaKeys() {
  return generateKeyPairSync('rsa', { modulusLength: 1024 })
}
function rsaPem(): string {
  return rsaKeys().privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}
function publicPem(): string {
  return rsaKeys().publicKey.export({ type: 'spki', format: 'pem' }).toString()
}
function encryptedPem(): string {
  return createPrivateKey(generateSigningKeyPem())
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
    .toString()
}
