import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import {
  generateSigningKeyPem,
  parsePublicKeys,
  parseSigningKey,
  publicKeysDocument,
  readSigningKey,
} from '@audit-pipeline/integrity'
import type { QueryIo } from './query.js'

/**
 * `audit-pipeline keys signing-key --out FILE`: a new Ed25519 checkpoint signing key (PKCS#8 PEM,
 * what the sink's SINK_SIGNING_KEY_FILE reads), readable by its owner only. Never overwrites: a
 * key replaced by mistake leaves the checkpoints it signed verifiable only with its public key,
 * if that was published.
 */
export function signingKeyCommand(options: { out: string }, io: QueryIo): number {
  const pem = generateSigningKeyPem()
  const key = parseSigningKey(pem, options.out)
  try {
    writeFileSync(options.out, pem, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(
      code === 'EEXIST'
        ? `${options.out} exists: a signing key is never overwritten (the checkpoints it signed need its public key); choose another file`
        : `${options.out} cannot be written (${code ?? String(error)})`,
      { cause: error },
    )
  }
  io.out(`Wrote a checkpoint signing key, ${key.keyId}, to ${options.out} (mode 0600).`)
  io.out(`The sink signs with it given SINK_SIGNING_KEY_FILE=${options.out}.`)
  io.out(
    `Publish its public key where auditors run verify: audit-pipeline keys public --signing-key ${options.out} --add-to PUBLIC_KEYS.json`,
  )
  return 0
}

/**
 * `audit-pipeline keys public --signing-key FILE [--add-to PUBLISHED.json]`: the public keys
 * document verify trusts. Without --add-to it prints the document of this key alone; with it,
 * adds the key to the published document, keeping every key already there (rotation: checkpoints
 * name the key that signed them, so the old keys stay for the old checkpoints), creating the file
 * if it does not exist.
 */
export function publicKeysCommand(options: { signingKey: string; addTo?: string }, io: QueryIo): number {
  const key = readSigningKey(options.signingKey)
  if (options.addTo === undefined) {
    io.out(JSON.stringify(publicKeysDocument([key.publicKey]), null, 2))
    return 0
  }
  const path = options.addTo
  const published = existsSync(path) ? parsePublicKeys(readFileSync(path, 'utf8'), path) : new Map()
  if (published.has(key.keyId)) {
    io.out(`${path} already publishes ${key.keyId}; nothing changed.`)
    return 0
  }
  const document = publicKeysDocument([...published.values(), key.publicKey])
  // Written beside it and renamed over it: a reader never sees half a document.
  const staged = `${path}.${process.pid}.tmp`
  writeFileSync(staged, `${JSON.stringify(document, null, 2)}\n`)
  renameSync(staged, path)
  io.out(
    `Added ${key.keyId} to ${path}: it publishes ${document.keys.length} key${document.keys.length === 1 ? '' : 's'} (${document.keys.map((entry) => entry.key_id).join(', ')}).`,
  )
  return 0
}
