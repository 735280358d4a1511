import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openLocalKeyStore, readKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { localFieldKeysPaths, writeLocalFieldKeys } from './localFieldKeys.js'
import { repoRoot } from './paths.js'

const stateDir = () => mkdtempSync(join(tmpdir(), 'local-field-keys-'))

describe('the local key store', () => {
  it('is made in the state folder on the first start, owner-only, and works', async () => {
    const dir = stateDir()
    const fieldKeys = await writeLocalFieldKeys(dir, {})
    expect(fieldKeys).toEqual({
      directory: join(dir, 'field-keys'),
      kekFile: join(dir, 'keys', 'field-keys.kek'),
    })
    expect(fieldKeys).toEqual(localFieldKeysPaths(dir))
    expect(statSync(fieldKeys.kekFile).mode & 0o777).toBe(0o600)
    expect(statSync(fieldKeys.directory).mode & 0o777).toBe(0o700)
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700)
    const keys = openLocalKeyStore({
      directory: fieldKeys.directory,
      keyEncryptionKey: await readKeyEncryptionKeyFile(fieldKeys.kekFile),
    })
    expect((await keys.dataKeyFor('acme', 'u-1')).key).toHaveLength(32)
  })

  it('keeps its key-encryption key across starts: what was sealed stays readable', async () => {
    const dir = stateDir()
    const first = await writeLocalFieldKeys(dir, {})
    const kek = readFileSync(first.kekFile, 'utf8')
    const keys = openLocalKeyStore({
      directory: first.directory,
      keyEncryptionKey: await readKeyEncryptionKeyFile(first.kekFile),
    })
    const key = await keys.dataKeyFor('acme', 'u-1')
    const second = await writeLocalFieldKeys(dir, {})
    expect(second).toEqual(first)
    expect(readFileSync(second.kekFile, 'utf8')).toBe(kek)
    const again = openLocalKeyStore({
      directory: second.directory,
      keyEncryptionKey: await readKeyEncryptionKeyFile(second.kekFile),
    })
    expect(await again.keyById(key.id)).toMatchObject({ state: 'active', key: { key: key.key } })
  })

  it('uses FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE when the environment sets them, and makes neither', async () => {
    const dir = stateDir()
    const elsewhere = stateDir()
    const kekFile = join(elsewhere, 'kek')
    writeFileSync(kekFile, `${Buffer.alloc(32, 7).toString('base64')}\n`)
    expect(
      await writeLocalFieldKeys(dir, { FIELD_KEYS_DIR: elsewhere, FIELD_KEYS_KEK_FILE: kekFile }),
    ).toEqual({
      directory: elsewhere,
      kekFile,
    })
    expect(() => statSync(join(dir, 'keys', 'field-keys.kek'))).toThrow()
    // Relative to the repository, where the services run.
    expect(
      (await writeLocalFieldKeys(dir, { FIELD_KEYS_KEK_FILE: kekFile, FIELD_KEYS_DIR: 'keys-here' }))
        .directory,
    ).toBe(join(repoRoot, 'keys-here'))
  })

  it('stops the start naming the file when the key-encryption key there is not one', async () => {
    const dir = stateDir()
    const { kekFile } = localFieldKeysPaths(dir)
    await writeLocalFieldKeys(dir, {})
    writeFileSync(kekFile, 'truncated\n')
    await expect(writeLocalFieldKeys(dir, {})).rejects.toThrow(`${kekFile}: expected the base64 of 32 bytes`)
  })
})
