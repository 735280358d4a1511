import { constants } from 'node:fs'
import { access, mkdir } from 'node:fs/promises'
import { ConfigError } from '@audit-pipeline/config'
import { openLocalKeyStore, readKeyEncryptionKeyFile, type KeyStore } from '@audit-pipeline/field-encryption'

/** Where the `encrypt` method's keys are: FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE. */
export type FieldKeySettings = {
  /** The local key store's folder (wrapped data keys); created if missing. */
  readonly directory: string
  /** The key-encryption key: a file holding the base64 of 32 bytes. */
  readonly keyEncryptionKeyFile: string
}

/**
 * Opens the local key store (packages/field-encryption) at start-up. A key-encryption key file that
 * cannot be read or is not 32 bytes, or a folder the process cannot write, is a ConfigError naming
 * the setting (exit code 2), found before any event is read rather than on the first one to seal.
 */
export async function openFieldKeyStore(settings: FieldKeySettings): Promise<KeyStore> {
  let keyEncryptionKey: Buffer
  try {
    keyEncryptionKey = await readKeyEncryptionKeyFile(settings.keyEncryptionKeyFile)
  } catch (error) {
    throw new ConfigError([{ setting: 'FIELD_KEYS_KEK_FILE', message: (error as Error).message }])
  }
  try {
    await mkdir(settings.directory, { recursive: true, mode: 0o700 })
    await access(settings.directory, constants.R_OK | constants.W_OK | constants.X_OK)
  } catch (error) {
    throw new ConfigError([
      {
        setting: 'FIELD_KEYS_DIR',
        message: `cannot use ${settings.directory} for keys: ${(error as Error).message}`,
      },
    ])
  }
  // cacheMs left at its default: a subject's key is reused for 10 s between reads of its file.
  return openLocalKeyStore({ directory: settings.directory, keyEncryptionKey })
}
