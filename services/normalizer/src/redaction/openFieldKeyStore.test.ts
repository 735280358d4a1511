import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@audit-pipeline/config'
import { writeKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { describe, expect, it, onTestFinished } from 'vitest'
import { openFieldKeyStore } from './openFieldKeyStore.js'

function folder(): string {
  const directory = mkdtempSync(join(tmpdir(), 'normalizer-field-keys-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  return directory
}

/** The problems of the ConfigError `opening` rejects with, as `SETTING: message`. */
async function problemsOf(opening: Promise<unknown>): Promise<string[]> {
  const error = await opening.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error.problems.map((p) => `${p.setting}: ${p.message}`)
}

describe('openFieldKeyStore', () => {
  it('opens the local store, creating its folder, and keeps data keys in it', async () => {
    const dir = folder()
    const kekFile = join(dir, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    const directory = join(dir, 'keys', 'normalizer')
    const keys = await openFieldKeyStore({ directory, keyEncryptionKeyFile: kekFile })
    const key = await keys.dataKeyFor('acme', 'u-1')
    expect([key.tenant, key.key.length]).toEqual(['acme', 32])
    expect(readdirSync(directory).sort()).toEqual(['keys', 'subjects'])
    // The same folder and key-encryption key, after a restart: the same key.
    const reopened = await openFieldKeyStore({ directory, keyEncryptionKeyFile: kekFile })
    expect((await reopened.dataKeyFor('acme', 'u-1')).id).toBe(key.id)
  })

  it('names FIELD_KEYS_KEK_FILE when the key-encryption key file is missing or not 32 bytes', async () => {
    const dir = folder()
    const missing = join(dir, 'missing')
    expect(await problemsOf(openFieldKeyStore({ directory: dir, keyEncryptionKeyFile: missing }))).toEqual([
      expect.stringMatching(
        new RegExp(`^FIELD_KEYS_KEK_FILE: cannot read the key-encryption key file ${missing}: ENOENT`),
      ),
    ])
    const short = join(dir, 'short')
    writeFileSync(short, `${Buffer.alloc(16).toString('base64')}\n`)
    expect(await problemsOf(openFieldKeyStore({ directory: dir, keyEncryptionKeyFile: short }))).toEqual([
      `FIELD_KEYS_KEK_FILE: ${short}: expected the base64 of 32 bytes (openssl rand -base64 32)`,
    ])
  })

  it('names FIELD_KEYS_DIR when the folder cannot be made', async () => {
    const dir = folder()
    const kekFile = join(dir, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    // A file where the folder should be: no process, root or not, can make a folder there.
    const problems = await problemsOf(
      openFieldKeyStore({ directory: join(kekFile, 'keys'), keyEncryptionKeyFile: kekFile }),
    )
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^FIELD_KEYS_DIR: cannot use ${join(kekFile, 'keys')} for keys: `)),
    ])
  })
})
