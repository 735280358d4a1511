import { createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where `npm start`'s query API listens and the key it accepts, for the CLI and the demo. */
export type LocalQueryApi = { url: string; key: string }

/** The one key `npm start` makes: an auditor (sees sensitive values), every tenant. */
export const localQueryApiKeyId = 'local-auditor'

/**
 * Makes a fresh key for this run and writes the API's keys file (the secret's SHA-256 only, as
 * services/query-api README "Keys" describes). The key itself goes to pipeline.json, readable
 * by the owner only, for the CLI and the demo.
 */
export function writeLocalQueryApiKeys(stateDir: string): { keysFile: string; key: string } {
  const secret = randomBytes(24).toString('base64url')
  const keysFile = join(stateDir, 'query-api-keys.json')
  const entry = {
    id: localQueryApiKeyId,
    secret_sha256: createHash('sha256').update(secret).digest('hex'),
    role: 'auditor',
  }
  writeFileSync(keysFile, `${JSON.stringify({ keys: [entry] }, null, 2)}\n`, { mode: 0o600 })
  return { keysFile, key: `${localQueryApiKeyId}.${secret}` }
}
