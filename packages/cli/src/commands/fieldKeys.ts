import { statSync } from 'node:fs'
import { openLocalKeyStore, readKeyEncryptionKeyFile, type KeyStore } from '@audit-pipeline/field-encryption'
import type { FieldKeysLocation } from './fieldKeysOptions.js'

/**
 * The local key store the settings name; throws naming the setting when its folder is missing or
 * its key-encryption key file does not hold one. (A KMS-backed store would be chosen here.)
 */
export async function openFieldKeys(location: FieldKeysLocation): Promise<KeyStore> {
  const { directory, kekFile } = location
  let isFolder = false
  try {
    isFolder = statSync(directory.path).isDirectory()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${directory.setting}: cannot read ${directory.path}: ${messageOf(error)}`, {
        cause: error,
      })
    }
  }
  if (!isFolder) {
    throw new Error(
      `${directory.setting}: ${directory.path} is not a folder: give the data keys folder the normalizer and the query API use`,
    )
  }
  let keyEncryptionKey: Buffer
  try {
    keyEncryptionKey = await readKeyEncryptionKeyFile(kekFile.path)
  } catch (error) {
    throw new Error(`${kekFile.setting}: ${messageOf(error)}`, { cause: error })
  }
  // No cache: an erasure, and a dead letter opened after one, see the files as they are now.
  return openLocalKeyStore({ directory: directory.path, keyEncryptionKey, cacheMs: 0 })
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
