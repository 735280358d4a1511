import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: this file is deploy/local-stack/{src,dist}/paths.*. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Maven poms and component configuration shipped with the repository. */
export const deployDir = join(repoRoot, 'deploy')

/** Downloads shared by every stack and clone on this machine, so only the first run fetches. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return resolve(
    env['AUDIT_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'audit-pipeline'),
  )
}
