import { renewKey, updateApiKeysFile, systemEntropy, type KeyEntropy } from '@audit-pipeline/api-keys'
import { localQueryApiKeysFile } from '@audit-pipeline/stack-state'

/** The key `npm start` makes for itself: an auditor (sees sensitive values), every tenant. */
export const localQueryApiKeyId = 'local-auditor'

/**
 * Gives the local auditor key a fresh secret in the API's keys file (made when missing), keeping
 * every other key, and returns its token; the token goes to pipeline.json, readable by the owner
 * only, for the CLI and the demo. Only the secret's SHA-256 is in the keys file (services/query-api
 * README "Keys"). Throws naming the file and the entry when the file is invalid: the user's keys are
 * in it, so it is never overwritten blindly.
 */
export async function writeLocalQueryApiKeys(
  stateDir: string,
  entropy: KeyEntropy = systemEntropy(),
): Promise<{ keysFile: string; key: string }> {
  const keysFile = localQueryApiKeysFile(stateDir)
  const { token } = await updateApiKeysFile(keysFile, (keys) =>
    renewKey(keys ?? [], { id: localQueryApiKeyId, role: 'auditor', tenants: 'all' }, entropy),
  )
  return { keysFile, key: token }
}
