import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: this file is packages/stack-state/{src,dist}/stateDir.*. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Where a stack keeps its PIDs, ports, data and logs (one stack per folder): AUDIT_STACK_DIR, or .stack/. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return resolve(env['AUDIT_STACK_DIR'] ?? join(repoRoot, '.stack'))
}

/**
 * The local query API's keys file. It outlives each `npm start` (nothing that empties part of the
 * state folder at start-up touches it), so keys made with `audit-pipeline keys create` stay.
 */
export function localQueryApiKeysFile(stateDir: string): string {
  return join(stateDir, 'query-api-keys.json')
}
