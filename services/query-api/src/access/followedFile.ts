import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from '@audit-pipeline/service-runtime'

/** A settings file the API reads again whenever it changes, and on SIGHUP. */
export type FollowedFile = {
  /** Reads the file again now (SIGHUP); throws, keeping what it had, when the file is unusable. */
  reload(): void
  /** Stops following the file. */
  close(): void
}

export type FollowedFileOptions = {
  file: string
  /** What the file holds, for logs: `API keys`. */
  what: string
  /** What stays in use when the file is unusable, for logs: `the keys`. */
  kept: string
  /**
   * Reads and applies the file; throws, applying nothing, when it is unusable. Returns what the
   * info log of a reload should say of it (`{ keys: 3 }`).
   */
  read: () => Record<string, unknown>
  /** Details of what is in use, for the error logs: `{ keys: 3 }`. */
  inUse: () => Record<string, unknown>
  log: Logger
  /** How long the file must stay quiet before it is read: an editor saves in several steps. */
  debounceMs?: number
}

/**
 * Follows `file`: reads it again 100 ms after it last changed and on `reload()`. The folder is
 * watched, not the file: the CLI (and most editors) replace a file by renaming a new one over it,
 * and a watch on the old file would follow the old inode. When the watch cannot be set up,
 * `reload()` (SIGHUP) still works. The file is read once more as the watch begins, since it may
 * have changed since start-up read it.
 */
export function followFile(options: FollowedFileOptions): FollowedFile {
  const { file, what, kept, read, inUse, log, debounceMs = 100 } = options
  let timer: NodeJS.Timeout | undefined
  let watcher: FSWatcher | undefined

  const reload = () => {
    const details = read()
    log.info({ file, ...details }, `${what} reloaded`)
  }
  const reloadOnChange = () => {
    timer = undefined
    try {
      reload()
    } catch (error) {
      log.error(
        { err: error, file, ...inUse() },
        `${what} file unusable: still using ${kept} read before it; fix the entry the error names`,
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
      log.error({ err: error, file }, `stopped watching the ${what} file: send SIGHUP to reload it`)
      watcher?.close()
    })
  } catch (error) {
    log.error({ err: error, file }, `cannot watch the ${what} file: send SIGHUP to reload it`)
  }
  try {
    read()
  } catch (error) {
    log.error({ err: error, file }, `${what} file unusable: still using ${kept} read at start-up`)
  }

  return {
    reload,
    close() {
      clearTimeout(timer)
      watcher?.close()
    },
  }
}
