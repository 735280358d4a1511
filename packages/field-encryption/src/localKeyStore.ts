import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { KeyStoreError, type KeyLookup, type KeyStore } from './keyStore.js'
import type { DataKey } from './sealedValue.js'

export type LocalKeyStoreOptions = {
  /** The folder holding wrapped data keys (`keys/`) and which key each subject has (`subjects/`). */
  directory: string
  /** The key-encryption key: 32 bytes (a file of their base64, see writeKeyEncryptionKeyFile). */
  keyEncryptionKey: Buffer
  /**
   * How long a subject's data key is reused without looking at its file again. A writer may seal
   * under a key for this long after another process erased it; such values are unreadable too,
   * which errs on the side of the erasure. Default 10 s; 0 reads the file every time.
   */
  cacheMs?: number
  now?: () => number
}

type KeyFile =
  | {
      version: 1
      key_id: string
      tenant: string
      subject_sha256: string
      kek_id: string
      wrapped_key: string
      created_at: string
    }
  | {
      version: 1
      key_id: string
      tenant: string
      subject_sha256: string
      erased_at: string
    }

const keyIdPattern = /^[A-Za-z0-9_-]{1,64}$/

/** Index keys remembered at most; tenants are few, and past this many the memory starts afresh. */
const maxRememberedTenants = 10_000

/**
 * A KeyStore in a folder, for `npm start`, tests and single-host deployments:
 *
 * - `keys/<key id>.json`: the data key wrapped with AES-256-GCM under the key-encryption key
 *   (additional data: key id, tenant, subject digest), or, once erased, the same file without it;
 * - `subjects/<sha256 of tenant NUL subject>`: the id of the subject's current key, created
 *   exclusively, so two processes making a subject's first key agree on one.
 *
 * Subjects appear only as digests. Erasure rewrites the key file without the wrapped key; on a
 * disk the old blocks may survive until overwritten, which is why production erasure belongs
 * with a KMS that destroys keys itself.
 */
export function openLocalKeyStore(options: LocalKeyStoreOptions): KeyStore {
  const { directory, keyEncryptionKey: kek } = options
  if (kek.length !== 32) {
    throw new KeyStoreError(`the key-encryption key must be 32 bytes, got ${kek.length}`)
  }
  const cacheMs = options.cacheMs ?? 10_000
  const now = options.now ?? Date.now
  const kekId = createHash('sha256').update(kek).digest('hex').slice(0, 16)
  const keysDir = join(directory, 'keys')
  const subjectsDir = join(directory, 'subjects')
  const current = new Map<string, { key: Promise<DataKey>; at: number }>()
  const indexKeys = new Map<string, Buffer>()

  const keyFilePath = (keyId: string) => join(keysDir, `${keyId}.json`)
  const subjectPath = (digest: string) => join(subjectsDir, digest)

  const readKeyFile = async (keyId: string): Promise<KeyFile | undefined> => {
    if (!keyIdPattern.test(keyId)) return undefined
    let text: string
    try {
      text = await readFile(keyFilePath(keyId), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new KeyStoreError(`cannot read ${keyFilePath(keyId)}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    try {
      return JSON.parse(text) as KeyFile
    } catch (error) {
      throw new KeyStoreError(`${keyFilePath(keyId)} is not JSON: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }

  const unwrap = (file: Extract<KeyFile, { wrapped_key: string }>): DataKey => {
    if (file.kek_id !== kekId) {
      throw new KeyStoreError(
        `${keyFilePath(file.key_id)} was wrapped by key-encryption key ${file.kek_id}, not by this one (${kekId})`,
      )
    }
    const wrapped = Buffer.from(file.wrapped_key, 'base64')
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12))
    decipher.setAAD(wrapAad(file.key_id, file.tenant, file.subject_sha256))
    decipher.setAuthTag(wrapped.subarray(wrapped.length - 16))
    try {
      const key = Buffer.concat([
        decipher.update(wrapped.subarray(12, wrapped.length - 16)),
        decipher.final(),
      ])
      return { id: file.key_id, tenant: file.tenant, key }
    } catch (error) {
      throw new KeyStoreError(`${keyFilePath(file.key_id)} does not unwrap: changed or not ours`, {
        cause: error,
      })
    }
  }

  const lookup = async (keyId: string): Promise<KeyLookup> => {
    const file = await readKeyFile(keyId)
    if (!file || file.key_id !== keyId) return { state: 'unknown' }
    if ('erased_at' in file)
      return { state: 'erased', tenant: file.tenant, erasedAt: new Date(file.erased_at) }
    return { state: 'active', key: unwrap(file) }
  }

  const makeKey = async (tenant: string, digest: string): Promise<DataKey> => {
    const key = randomBytes(32)
    const keyId = `k${randomBytes(12).toString('base64url')}`
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', kek, iv)
    cipher.setAAD(wrapAad(keyId, tenant, digest))
    const wrapped = Buffer.concat([iv, cipher.update(key), cipher.final(), cipher.getAuthTag()])
    const file: KeyFile = {
      version: 1,
      key_id: keyId,
      tenant,
      subject_sha256: digest,
      kek_id: kekId,
      wrapped_key: wrapped.toString('base64'),
      created_at: new Date(now()).toISOString(),
    }
    await writeAtomically(keyFilePath(keyId), `${JSON.stringify(file, null, 2)}\n`)
    try {
      await writeFile(subjectPath(digest), keyId, { flag: 'wx', mode: 0o600 })
      return { id: keyId, tenant, key }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // Another process made the subject's key first: use that one, and drop ours (never used).
      await rm(keyFilePath(keyId), { force: true })
      return currentKey(tenant, digest)
    }
  }

  const currentKey = async (tenant: string, digest: string): Promise<DataKey> => {
    let keyId: string
    try {
      keyId = (await readFile(subjectPath(digest), 'utf8')).trim()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      return makeKey(tenant, digest)
    }
    const found = await lookup(keyId)
    if (found.state === 'active') return found.key
    throw new KeyStoreError(`${subjectPath(digest)} names key ${keyId}, which is ${found.state}`)
  }

  return {
    async dataKeyFor(tenant, subject) {
      const digest = subjectDigest(tenant, subject)
      const cached = current.get(digest)
      if (cached && now() - cached.at < cacheMs) return cached.key
      await ensureFolders(keysDir, subjectsDir)
      const key = currentKey(tenant, digest)
      current.set(digest, { key, at: now() })
      key.catch(() => current.delete(digest))
      return key
    },
    keyById: lookup,
    indexKeyFor(tenant) {
      // Derived, never stored: remembered per tenant, since HKDF costs more than sealing a value.
      let indexKey = indexKeys.get(tenant)
      if (indexKey === undefined) {
        indexKey = Buffer.from(
          hkdfSync('sha256', kek, Buffer.from(tenant, 'utf8'), 'audit-pipeline blind index', 32),
        )
        if (indexKeys.size >= maxRememberedTenants) indexKeys.clear()
        indexKeys.set(tenant, indexKey)
      }
      return Promise.resolve(indexKey)
    },
    async erase(tenant, subject) {
      const digest = subjectDigest(tenant, subject)
      current.delete(digest)
      const erasedAt = new Date(now())
      let keyId: string | undefined
      try {
        keyId = (await readFile(subjectPath(digest), 'utf8')).trim()
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
      const keyIds: string[] = []
      if (keyId !== undefined) {
        const file = await readKeyFile(keyId)
        if (file && !('erased_at' in file)) {
          const erased: KeyFile = {
            version: 1,
            key_id: file.key_id,
            tenant: file.tenant,
            subject_sha256: file.subject_sha256,
            erased_at: erasedAt.toISOString(),
          }
          await writeAtomically(keyFilePath(keyId), `${JSON.stringify(erased, null, 2)}\n`)
          keyIds.push(keyId)
        }
        // The subject's next event gets a new key: what comes after the erasure is new data.
        await rm(subjectPath(digest), { force: true })
      }
      return { tenant, subjectDigest: digest, keyIds, erasedAt }
    },
  }
}

/** SHA-256 (hex) of tenant NUL subject: how the store and records of erasures name a subject. */
export function subjectDigest(tenant: string, subject: string): string {
  return createHash('sha256').update(`${tenant}\u0000${subject}`, 'utf8').digest('hex')
}

/** Reads a key-encryption key file: the base64 of 32 bytes. Errors name the file. */
export async function readKeyEncryptionKeyFile(path: string): Promise<Buffer> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new KeyStoreError(`cannot read the key-encryption key file ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return parseKeyEncryptionKey(text, path)
}

/**
 * A key-encryption key from its file's text, the base64 of 32 bytes; throws naming `path` (never
 * quoting the text, which is a secret). Synchronous, for configuration loaders.
 */
export function parseKeyEncryptionKey(text: string, path: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64')
  if (key.length !== 32 || key.toString('base64') !== text.trim()) {
    throw new KeyStoreError(`${path}: expected the base64 of 32 bytes (openssl rand -base64 32)`)
  }
  return key
}

/** Writes a new random key-encryption key file (mode 0600); refuses to overwrite one. */
export async function writeKeyEncryptionKeyFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${randomBytes(32).toString('base64')}\n`, { flag: 'wx', mode: 0o600 })
}

function wrapAad(keyId: string, tenant: string, digest: string): Buffer {
  return Buffer.from(`audit-pipeline data key\u0000${keyId}\u0000${tenant}\u0000${digest}`, 'utf8')
}

async function ensureFolders(...dirs: string[]): Promise<void> {
  for (const dir of dirs) await mkdir(dir, { recursive: true, mode: 0o700 })
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  await writeFile(temporary, text, { mode: 0o600 })
  await rename(temporary, path)
}
