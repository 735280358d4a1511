import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  generateSigningKeyPem,
  parsePublicKeys,
  parseSigningKey,
  publicKeysDocument,
} from '@audit-pipeline/integrity'
import { localPublicKeysFile, localSigningKeyFile } from '@audit-pipeline/stack-state'

/**
 * The local sink's signing key, made once (owner-only) and kept; and the public keys file, which
 * holds it and every key it held before (a key replaced by hand stays trusted for the checkpoints
 * it signed). Returns both paths: SINK_SIGNING_KEY_FILE, and what verify reads.
 */
export function writeLocalSigningKey(stateDir: string): { signingKeyFile: string; publicKeysFile: string } {
  const signingKeyFile = localSigningKeyFile(stateDir)
  const publicKeysFile = localPublicKeysFile(stateDir)
  mkdirSync(dirname(signingKeyFile), { recursive: true, mode: 0o700 })
  if (!existsSync(signingKeyFile)) writeFileSync(signingKeyFile, generateSigningKeyPem(), { mode: 0o600 })
  const key = parseSigningKey(readFileSync(signingKeyFile, 'utf8'), signingKeyFile)
  const published = existsSync(publicKeysFile)
    ? parsePublicKeys(readFileSync(publicKeysFile, 'utf8'), publicKeysFile)
    : new Map()
  if (!published.has(key.keyId)) {
    const keys = [...published.values(), key.publicKey]
    writeFileSync(publicKeysFile, `${JSON.stringify(publicKeysDocument(keys), null, 2)}\n`)
  }
  return { signingKeyFile, publicKeysFile }
}
