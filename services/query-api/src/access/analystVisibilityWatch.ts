import type { Logger } from '@audit-pipeline/service-runtime'
import type { AnalystVisibility, AnalystVisibilityLookup } from './analystVisibility.js'
import { readAnalystVisibilityFile } from './analystVisibilityFile.js'
import { followFile } from './followedFile.js'

/** The analyst visibility in force, following its file as the keys follow theirs. */
export type FollowedAnalystVisibility = AnalystVisibilityLookup & {
  /** Reads the file again (SIGHUP); throws naming the file and the entry, keeping what it had. */
  reload(): void
  close(): void
}

/**
 * Follows QUERY_API_ANALYST_VISIBILITY_FILE: a change applies to the next request, without a
 * restart; an unusable file leaves the visibility read before it in force and logs the error.
 * Deleting the file changes nothing (as for the keys). Without the setting, the built-in default
 * holds and there is nothing to follow.
 */
export function watchAnalystVisibility(options: {
  file: string | undefined
  /** As read at start-up, with the other settings. */
  visibility: AnalystVisibility
  log: Logger
  debounceMs?: number
}): FollowedAnalystVisibility {
  const { file, log, debounceMs } = options
  let visibility = options.visibility
  if (file === undefined) return { current: () => visibility, reload: () => {}, close: () => {} }
  const details = () => ({ tenants: visibility.tenants.size })
  const followed = followFile({
    file,
    what: 'analyst visibility',
    kept: 'the visibility',
    read: () => {
      visibility = readAnalystVisibilityFile(file)
      return details()
    },
    inUse: details,
    log,
    ...(debounceMs !== undefined && { debounceMs }),
  })
  return {
    current: () => visibility,
    reload: () => followed.reload(),
    close: () => followed.close(),
  }
}
