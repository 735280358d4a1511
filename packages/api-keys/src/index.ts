// The query API's keys file: its format, the create, renew, revoke and list operations over its
// keys (pure), and the file's reading and atomic writing. The CLI (`audit-pipeline keys`), the
// query API (which reloads the file when it changes) and the local stack (its own key) share it.
export {
  keyIdPattern,
  keyStatus,
  keyStatuses,
  roles,
  tenantNamePattern,
  type ApiKey,
  type KeyStatus,
  type Role,
} from './apiKey.js'
export { ApiKeysError, apiKeysErrorCodes, KeysFileError, type ApiKeysErrorCode } from './apiKeysError.js'
export { expiresAtFrom, expiryRule } from './expiry.js'
export { formatApiKeys, parseApiKeys } from './keysFile.js'
export {
  readApiKeysFile,
  readApiKeysFileIfPresent,
  updateApiKeysFile,
  writeApiKeysFile,
} from './keysFileStore.js'
export {
  createKey,
  keySummaries,
  renewKey,
  revokeKey,
  type CreatedKey,
  type KeyRequest,
  type KeySummary,
  type RevokedKey,
} from './keyOperations.js'
export { isRole, keyIdProblem, roleProblem, tenantNameProblem } from './keyRules.js'
export { newSecret, secretSha256, systemEntropy, tokenOf, type KeyEntropy } from './secrets.js'
