import {
  ApiKeysError,
  createKey,
  keySummaries,
  readApiKeysFileIfPresent,
  revokeKey,
  updateApiKeysFile,
  type KeyEntropy,
  type KeyRequest,
} from '@audit-pipeline/api-keys'
import type { QueryIo } from './query.js'
import type { KeysFile, KeysListFormat } from './keysOptions.js'
import { createdKeyLines, keyJson, keysListing, keysSummaryLine } from './keysOutput.js'
import { tableLines } from './queryOutput.js'

/** `audit-pipeline keys create`: adds a key to the file and prints its token, this once only. */
export async function keysCreateCommand(
  request: KeyRequest,
  file: KeysFile,
  io: QueryIo,
  entropy: KeyEntropy,
): Promise<number> {
  let created
  try {
    created = await updateApiKeysFile(file.path, (keys) => createKey(keys ?? [], request, entropy))
  } catch (error) {
    if (error instanceof ApiKeysError && error.code === 'KEY_ID_TAKEN') {
      throw new Error(`--id: ${error.message}; choose another (keys file ${file.path})`, { cause: error })
    }
    throw error
  }
  const { key, token } = created
  for (const line of createdKeyLines({
    id: key.id,
    role: key.role,
    tenants: key.tenants,
    ...(key.expiresAt && { expiresAt: key.expiresAt }),
    token,
    file: file.path,
  })) {
    io.out(line)
  }
  return 0
}

/** `audit-pipeline keys list`: every key with its role, tenants, times and status. */
export function keysListCommand(
  options: { format: KeysListFormat },
  file: KeysFile,
  io: QueryIo,
  nowMs: number,
): number {
  const keys = readApiKeysFileIfPresent(file.path)
  if (keys === undefined) throw missingFile(file)
  const summaries = keySummaries(keys, nowMs)
  if (options.format === 'json') {
    for (const key of summaries) io.out(keyJson(key))
  } else {
    for (const line of tableLines(keysListing(summaries), io.widthChars ?? 160)) io.out(line)
  }
  io.err(keysSummaryLine(summaries, file.path))
  return 0
}

/** `audit-pipeline keys revoke ID`: the key is refused from now on; its entry stays, so its id is never reused. */
export async function keysRevokeCommand(
  id: string,
  file: KeysFile,
  io: QueryIo,
  nowMs: number,
): Promise<number> {
  if (readApiKeysFileIfPresent(file.path) === undefined) throw missingFile(file)
  let revoked
  try {
    revoked = await updateApiKeysFile(file.path, (keys) => revokeKey(keys ?? [], id, nowMs))
  } catch (error) {
    if (error instanceof ApiKeysError && error.code === 'KEY_NOT_FOUND') {
      throw new Error(`${error.message} in ${file.path}; \`audit-pipeline keys list\` shows the ids`, {
        cause: error,
      })
    }
    throw error
  }
  if (revoked.alreadyRevoked) {
    io.out(`Key ${id} was already revoked at ${revoked.key.revokedAt?.toISOString()}; nothing changed.`)
    return 0
  }
  io.out(`Revoked key ${id} in ${file.path}: a query API reading that file refuses it at once.`)
  return 0
}

function missingFile(file: KeysFile): Error {
  const where =
    file.origin === 'the local stack'
      ? `the local stack's keys file ${file.path} does not exist (\`npm start\` makes it; QUERY_API_KEYS_FILE or --file names another)`
      : `the keys file ${file.path} (${file.origin}) does not exist`
  return new Error(`${where}; \`audit-pipeline keys create\` makes it with its first key`)
}
