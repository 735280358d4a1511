import { readApiKeysFile, type ApiKey } from '@audit-pipeline/api-keys'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { ApiKeyLookup } from './authenticate.js'
import { followFile } from './followedFile.js'

/** The API's keys, following the keys file: `keys create` and `keys revoke` apply at once. */
export type KeyRing = ApiKeyLookup & {
  /** Keys in the file as last read, revoked and expired ones included. */
  readonly size: number
  /**
   * Reads the file again (SIGHUP). When the file is unusable, throws naming the file, the key and
   * the field, and keeps the keys it had.
   */
  reload(): void
  /** Stops following the file. */
  close(): void
}

export type KeyRingOptions = {
  file: string
  /** The keys as read at start-up, with the other settings. */
  keys: readonly ApiKey[]
  log: Logger
  /** How long the file must stay quiet before it is read: an editor saves in several steps. */
  debounceMs?: number
}

/**
 * Holds the keys by id and reads the file again whenever it changes (followedFile.ts: the folder
 * is watched, so a file renamed over the old one is seen). When the watch cannot be set up,
 * SIGHUP still reloads.
 */
export function watchKeyRing(options: KeyRingOptions): KeyRing {
  const { file, log, debounceMs } = options
  let byId = byIdOf(options.keys)
  const followed = followFile({
    file,
    what: 'API keys',
    kept: 'the keys',
    read: () => {
      byId = byIdOf(readApiKeysFile(file))
      return { keys: byId.size }
    },
    inUse: () => ({ keys: byId.size }),
    log,
    ...(debounceMs !== undefined && { debounceMs }),
  })
  return {
    get: (id) => byId.get(id),
    get size() {
      return byId.size
    },
    reload: () => followed.reload(),
    close: () => followed.close(),
  }
}

function byIdOf(keys: readonly ApiKey[]): ReadonlyMap<string, ApiKey> {
  return new Map(keys.map((key) => [key.id, key]))
}
