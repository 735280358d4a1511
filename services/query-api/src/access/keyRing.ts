import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { readApiKeysFile, type ApiKey } from '@audit-pipeline/api-keys'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { ApiKeyLookup } from './authenticate.js'

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
 * Holds the keys by id and reads the file again whenever it changes. The folder is watched, not
 * the file: the CLI replaces the file by renaming a new one over it, and a watch on the old file
 * would follow the old inode. When the watch cannot be set up, SIGHUP still reloads.
 */
export function watchKeyRing(options: KeyRingOptions): KeyRing {
  const { file, log, debounceMs = 100 } = options
  let byId = byIdOf(options.keys)
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher | undefined

  const read = () => {
    byId = byIdOf(readApiKeysFile(file))
  }
  const reload = () => {
    read()
    log.info({ file, keys: byId.size }, 'API keys reloaded')
  }
  const reloadOnChange = () => {
    timer = undefined
    try {
      reload()
    } catch (error) {
      log.error(
        { err: error, file, keys: byId.size },
        'API keys file unusable: still using the keys read before it; fix the entry the error names',
      )
    }
  }

  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, name) => {
      // Other files in the folder (the writer's temporary file among them) do not matter; some
      // platforms give no name, and then any change might be the file's.
      if (name !== null && name !== basename(file)) return
      clearTimeout(timer)
      timer = setTimeout(reloadOnChange, debounceMs)
    })
    watcher.on('error', (error) => {
      log.error({ err: error, file }, 'stopped watching the API keys file: send SIGHUP to reload it')
      watcher?.close()
    })
  } catch (error) {
    log.error({ err: error, file }, 'cannot watch the API keys file: send SIGHUP to reload it')
  }
  // The file may have changed between start-up reading it and the watch beginning.
  try {
    read()
  } catch (error) {
    log.error({ err: error, file }, 'API keys file unusable: still using the keys read at start-up')
  }

  return {
    get: (id) => byId.get(id),
    get size() {
      return byId.size
    },
    reload,
    close() {
      clearTimeout(timer)
      watcher?.close()
    },
  }
}

function byIdOf(keys: readonly ApiKey[]): ReadonlyMap<string, ApiKey> {
  return new Map(keys.map((key) => [key.id, key]))
}
