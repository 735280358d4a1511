import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  openLocalKeyStore,
  readKeyEncryptionKeyFile,
  subjectDigest,
  writeKeyEncryptionKeyFile,
} from './localKeyStore.js'

const folder = () => mkdtempSync(join(tmpdir(), 'keystore-'))

describe('the local key store', () => {
  it('gives a subject one key, across store instances racing to make it', async () => {
    const directory = folder()
    const kek = randomBytes(32)
    const stores = Array.from({ length: 4 }, () => openLocalKeyStore({ directory, keyEncryptionKey: kek }))
    const keys = await Promise.all(stores.map((store) => store.dataKeyFor('acme', 'u-1')))
    expect(new Set(keys.map((key) => key.id)).size).toBe(1)
    expect(new Set(keys.map((key) => key.key.toString('hex'))).size).toBe(1)
    // The losers' keys were never used and are gone: one key file.
    expect(readdirSync(join(directory, 'keys'))).toHaveLength(1)
    const other = await stores[0]!.dataKeyFor('acme', 'u-2')
    expect(other.id).not.toBe(keys[0]!.id)
    const lookup = await openLocalKeyStore({ directory, keyEncryptionKey: kek }).keyById(keys[0]!.id)
    expect(lookup.state === 'active' && lookup.key.key.equals(keys[0]!.key)).toBe(true)
  })

  it('keeps subjects only as digests and keys only wrapped', async () => {
    const directory = folder()
    const store = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    const key = await store.dataKeyFor('acme', 'alice@example.com')
    const files = readdirSync(join(directory, 'subjects'))
    expect(files).toEqual([subjectDigest('acme', 'alice@example.com')])
    const keyFile = readFileSync(join(directory, 'keys', `${key.id}.json`), 'utf8')
    expect(keyFile).not.toContain('alice')
    expect(keyFile).not.toContain(key.key.toString('base64'))
    expect(keyFile).not.toContain(key.key.toString('hex'))
  })

  it('erases a subject: its key reads as erased everywhere, the next event gets a new key', async () => {
    const directory = folder()
    const kek = randomBytes(32)
    const writer = openLocalKeyStore({ directory, keyEncryptionKey: kek })
    const reader = openLocalKeyStore({ directory, keyEncryptionKey: kek, cacheMs: 0 })
    const before = await writer.dataKeyFor('acme', 'u-1')
    const kept = await writer.dataKeyFor('acme', 'u-2')
    const erasure = await reader.erase('acme', 'u-1')
    expect(erasure).toMatchObject({
      tenant: 'acme',
      keyIds: [before.id],
      subjectDigest: subjectDigest('acme', 'u-1'),
    })
    expect((await writer.keyById(before.id)).state).toBe('erased')
    expect(readFileSync(join(directory, 'keys', `${before.id}.json`), 'utf8')).not.toContain('wrapped_key')
    expect((await writer.keyById(kept.id)).state).toBe('active')
    expect((await reader.erase('acme', 'u-1')).keyIds).toEqual([])
    // The erasing store made a new key for the subject's next event; so does a fresh one.
    const after = await openLocalKeyStore({ directory, keyEncryptionKey: kek }).dataKeyFor('acme', 'u-1')
    expect(after.id).not.toBe(before.id)
  })

  it('refuses a wrong key-encryption key and a changed key file, naming the file', async () => {
    const directory = folder()
    const store = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    const key = await store.dataKeyFor('acme', 'u-1')
    const wrong = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
    await expect(wrong.keyById(key.id)).rejects.toThrow(
      /was wrapped by key-encryption key \w+, not by this one/,
    )
    const path = join(directory, 'keys', `${key.id}.json`)
    const file = JSON.parse(readFileSync(path, 'utf8')) as { tenant: string }
    writeFileSync(path, JSON.stringify({ ...file, tenant: 'globex' }))
    await expect(store.keyById(key.id)).rejects.toThrow(`${path} does not unwrap`)
    expect((await store.keyById('../../etc/passwd')).state).toBe('unknown')
    expect((await store.keyById('kNoSuchKey')).state).toBe('unknown')
  })

  it('reads and writes key-encryption key files, refusing bad ones and overwriting none', async () => {
    const path = join(folder(), 'kek')
    await writeKeyEncryptionKeyFile(path)
    expect(await readKeyEncryptionKeyFile(path)).toHaveLength(32)
    await expect(writeKeyEncryptionKeyFile(path)).rejects.toThrow(/EEXIST/)
    writeFileSync(path, 'c2hvcnQ=\n')
    await expect(readKeyEncryptionKeyFile(path)).rejects.toThrow(`${path}: expected the base64 of 32 bytes`)
    await expect(readKeyEncryptionKeyFile(join(folder(), 'none'))).rejects.toThrow(
      /cannot read the key-encryption key file/,
    )
    expect(() => openLocalKeyStore({ directory: folder(), keyEncryptionKey: randomBytes(16) })).toThrow(
      /32 bytes/,
    )
  })

  it('gives each tenant its own blind-index key', async () => {
    const store = openLocalKeyStore({ directory: folder(), keyEncryptionKey: randomBytes(32) })
    const [acme, again, globex] = await Promise.all([
      store.indexKeyFor('acme'),
      store.indexKeyFor('acme'),
      store.indexKeyFor('globex'),
    ])
    expect(acme.equals(again)).toBe(true)
    expect(acme.equals(globex)).toBe(false)
  })
})
