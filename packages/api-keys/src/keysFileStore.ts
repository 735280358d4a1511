import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { lock } from 'proper-lockfile'
import type { ApiKey } from './apiKey.js'
import { ApiKeysError } from './apiKeysError.js'
import { formatApiKeys, parseApiKeys } from './keysFile.js'

// The keys file on disk. The query API re-reads it whenever it changes, so a write must never be
// seen half done: each one goes to a temporary file in the same folder (so the rename stays on
// one file system), is flushed, then renamed over the file, which readers see all at once.

/** The file's keys; throws ApiKeysError naming the file when it is missing, unreadable or invalid. */
export function readApiKeysFile(path: string): ApiKey[] {
  const keys = readApiKeysFileIfPresent(path)
  if (keys === undefined) {
    throw new ApiKeysError('KEYS_FILE_UNREADABLE', `cannot read ${path}: no such file`)
  }
  return keys
}

/** The file's keys, or undefined when there is no file yet; throws ApiKeysError as readApiKeysFile. */
export function readApiKeysFileIfPresent(path: string): ApiKey[] | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ApiKeysError('KEYS_FILE_UNREADABLE', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  return parseApiKeys(text, path)
}

/**
 * Replaces the file with `keys`, atomically, readable by its owner only (0600: the hashes are not
 * secrets, but which keys exist and what they may read is nobody else's business). Makes the
 * folder when missing.
 */
export function writeApiKeysFile(path: string, keys: readonly ApiKey[]): void {
  const folder = dirname(path)
  mkdirSync(folder, { recursive: true })
  const temporary = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  // 'wx': a fresh file, never one a stale temporary name happens to point at.
  const fd = openSync(temporary, 'wx', 0o600)
  try {
    try {
      writeSync(fd, formatApiKeys(keys))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * Reads the file (undefined when there is none), applies `change`, writes the result atomically,
 * and returns what `change` returned, all under the file's lock (`<file>.lock`, proper-lockfile),
 * so two commands at the same moment are applied one after the other: a revocation is never lost
 * to a create that read the file before it. A lock left by a process that died is taken over after
 * 10 s.
 */
export async function updateApiKeysFile<T extends { keys: readonly ApiKey[] }>(
  path: string,
  change: (keys: ApiKey[] | undefined) => T,
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true })
  let release: () => Promise<void>
  try {
    release = await lock(path, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 50, minTimeout: 20, maxTimeout: 200 },
    })
  } catch (error) {
    throw new ApiKeysError(
      'KEYS_FILE_UNREADABLE',
      `cannot lock ${path} to change it (another keys command holds ${path}.lock): ${(error as Error).message}`,
      { cause: error },
    )
  }
  try {
    const result = change(readApiKeysFileIfPresent(path))
    writeApiKeysFile(path, result.keys)
    return result
  } finally {
    await release()
  }
}
