import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { openFieldKeys } from './fieldKeys.js'

const at = (path: string, setting: string) => ({ path, setting })

describe('openFieldKeys', () => {
  it('opens the local key store the settings name', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'erase-keys-'))
    const kekFile = join(folder, 'kek')
    await writeKeyEncryptionKeyFile(kekFile)
    const keys = await openFieldKeys({
      directory: at(folder, 'FIELD_KEYS_DIR'),
      kekFile: at(kekFile, 'FIELD_KEYS_KEK_FILE'),
    })
    const key = await keys.dataKeyFor('acme', 'u-1')
    expect(await keys.erase('acme', 'u-1')).toMatchObject({ keyIds: [key.id] })
  })

  it('names the setting whose folder or key file does not work', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'erase-keys-'))
    const kekFile = join(folder, 'kek')
    writeFileSync(kekFile, 'not a key\n')
    await expect(
      openFieldKeys({
        directory: at(join(folder, 'nope'), '--keys-dir'),
        kekFile: at(kekFile, '--kek-file'),
      }),
    ).rejects.toThrow(`--keys-dir: ${join(folder, 'nope')} is not a folder: give the data keys folder`)
    await expect(
      openFieldKeys({ directory: at(kekFile, 'FIELD_KEYS_DIR'), kekFile: at(kekFile, '--kek-file') }),
    ).rejects.toThrow(`FIELD_KEYS_DIR: ${kekFile} is not a folder`)
    await expect(
      openFieldKeys({ directory: at(folder, '--keys-dir'), kekFile: at(kekFile, 'FIELD_KEYS_KEK_FILE') }),
    ).rejects.toThrow(`FIELD_KEYS_KEK_FILE: ${kekFile}: expected the base64 of 32 bytes`)
    await expect(
      openFieldKeys({
        directory: at(folder, '--keys-dir'),
        kekFile: at(join(folder, 'missing'), '--kek-file'),
      }),
    ).rejects.toThrow(`--kek-file: cannot read the key-encryption key file ${join(folder, 'missing')}`)
  })
})
