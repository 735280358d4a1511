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

/**
 * The local sink's checkpoint signing key (Ed25519, PKCS#8 PEM), made by the first `npm start` and
 * kept, like the data it signs: a new key each start would leave older checkpoints unverifiable
 * without the old public key.
 */
export function localSigningKeyFile(stateDir: string): string {
  return join(stateDir, 'keys', 'checkpoint-signing.pem')
}

/** The local stack's published public keys (what `audit-pipeline verify` trusts by default). */
export function localPublicKeysFile(stateDir: string): string {
  return join(stateDir, 'keys', 'checkpoint-public-keys.json')
}
