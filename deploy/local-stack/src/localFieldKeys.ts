import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { readKeyEncryptionKeyFile, writeKeyEncryptionKeyFile } from '@audit-pipeline/field-encryption'
import { repoRoot } from './paths.js'

/**
 * The key store the normalizer seals with and the query API opens with (packages/field-encryption),
 * as the services read it: FIELD_KEYS_DIR, FIELD_KEYS_KEK_FILE.
 */
export type LocalFieldKeys = { directory: string; kekFile: string }

/**
 * The local key store in the state folder: the data keys in `field-keys/`, the key-encryption key
 * in `keys/field-keys.kek` beside the checkpoint signing key. Like that key and the query API's
 * keys, they outlive each start (nothing emptied at start-up is under them): ClickHouse may keep
 * sealed values across starts (with CLICKHOUSE_URL), and a new KEK would leave them unreadable.
 */
export function localFieldKeysPaths(stateDir: string): LocalFieldKeys {
  return { directory: join(stateDir, 'field-keys'), kekFile: join(stateDir, 'keys', 'field-keys.kek') }
}

/**
 * The key store the services get: each of FIELD_KEYS_DIR and FIELD_KEYS_KEK_FILE from the
 * environment when set (it wins over the defaults, as every service setting does; relative to the
 * repository, where the services run), else the state folder's, made when missing: the KEK once
 * (owner-only, never overwritten), the folder owner-only. Throws naming the file when the KEK
 * there is not one, so a damaged file stops the start rather than every sealing.
 */
export async function writeLocalFieldKeys(stateDir: string, env: NodeJS.ProcessEnv): Promise<LocalFieldKeys> {
  const local = localFieldKeysPaths(stateDir)
  const givenDir = env['FIELD_KEYS_DIR']?.trim()
  const givenKek = env['FIELD_KEYS_KEK_FILE']?.trim()
  const directory = givenDir ? resolve(repoRoot, givenDir) : local.directory
  const kekFile = givenKek ? resolve(repoRoot, givenKek) : local.kekFile
  if (!givenKek) {
    mkdirSync(dirname(kekFile), { recursive: true, mode: 0o700 })
    try {
      await writeKeyEncryptionKeyFile(kekFile)
    } catch (error) {
      // Made by an earlier start: kept, as everything sealed under its data keys needs it.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  await readKeyEncryptionKeyFile(kekFile)
  if (!givenDir) mkdirSync(directory, { recursive: true, mode: 0o700 })
  return { directory, kekFile }
}
