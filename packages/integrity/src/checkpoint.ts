import { createHash, sign, verify } from 'node:crypto'
import { canonicalJson, wellFormed } from './canonicalJson.js'
import { zeroHash } from './chainEntry.js'
import { merkleRoot } from './merkleTree.js'
import type { PublicKeySet, SigningKey } from './signingKeys.js'

/**
 * Signed checkpoints: every so often the chain's newest entries are covered by a checkpoint that
 * signs the Merkle root over their hashes and the hash of the chain's previous checkpoint. The
 * entries then cannot be changed without a signature that no longer matches, and checkpoints
 * cannot be removed from the middle without breaking the next one's link; the newest can, which
 * is why a verifier expects old entries to be covered (verifyChain's checkpoint-missing).
 */
export const checkpointForm = 'audit-pipeline/checkpoint/1'

/** What is signed. Covers entries first_seq..last_seq inclusive: a tree of last_seq - first_seq + 1 leaves. */
export type CheckpointBody = {
  form: typeof checkpointForm
  tenant: string
  chain: string
  checkpoint_seq: number
  first_seq: number
  last_seq: number
  merkle_root: string
  last_entry_hash: string
  previous_checkpoint_hash: string
  /** epoch ms */
  created_at: number
  key_id: string
}

/** signature: base64 of the Ed25519 signature over the UTF-8 of canonicalJson(body). */
export type SignedCheckpoint = CheckpointBody & { signature: string }

const hashPattern = /^[0-9a-f]{64}$/

/**
 * The checkpoint after `previous` (null: the chain's first) covering `entries`, which must be the
 * hashes of the entries right after previous.last_seq (from seq 0 for the first), in seq order,
 * at least one. Anything else is a bug in the caller, and throws.
 */
export function buildCheckpoint(options: {
  tenant: string
  chain: string
  previous: SignedCheckpoint | null
  entries: readonly { seq: number; hash: string }[]
  createdAtMs: number
  key: SigningKey
}): SignedCheckpoint {
  const { previous, entries, createdAtMs, key } = options
  const tenant = wellFormed(options.tenant)
  const chain = wellFormed(options.chain)
  if (previous !== null && (previous.tenant !== tenant || previous.chain !== chain)) {
    throw new Error(
      `the previous checkpoint belongs to ${previous.tenant} ${previous.chain}, not ${tenant} ${chain}`,
    )
  }
  if (!Number.isSafeInteger(createdAtMs))
    throw new TypeError(`createdAtMs must be integer epoch ms, got ${createdAtMs}`)
  const firstSeq = previous === null ? 0 : previous.last_seq + 1
  const last = entries.at(-1)
  if (last === undefined) throw new RangeError('a checkpoint covers at least one entry')
  entries.forEach((entry, index) => {
    if (entry.seq !== firstSeq + index) {
      throw new RangeError(
        `checkpoint entries must be contiguous from seq ${firstSeq}: entry ${index} has seq ${entry.seq}, expected ${firstSeq + index}`,
      )
    }
    if (!hashPattern.test(entry.hash))
      throw new TypeError(`the hash of entry ${entry.seq} is not lowercase hex SHA-256`)
  })
  const body: CheckpointBody = {
    form: checkpointForm,
    tenant,
    chain,
    checkpoint_seq: previous === null ? 0 : previous.checkpoint_seq + 1,
    first_seq: firstSeq,
    last_seq: last.seq,
    merkle_root: merkleRoot(entries.map((entry) => Buffer.from(entry.hash, 'hex'))).toString('hex'),
    last_entry_hash: last.hash,
    previous_checkpoint_hash: previous === null ? zeroHash : checkpointHash(previous),
    created_at: createdAtMs,
    key_id: key.keyId,
  }
  const signature = sign(null, Buffer.from(canonicalJson(body), 'utf8'), key.privateKey).toString('base64')
  return { ...body, signature }
}

/** The signed part: every field but the signature (and nothing a stored copy may carry besides). */
export function checkpointBody(checkpoint: SignedCheckpoint): CheckpointBody {
  return {
    form: checkpoint.form,
    tenant: checkpoint.tenant,
    chain: checkpoint.chain,
    checkpoint_seq: checkpoint.checkpoint_seq,
    first_seq: checkpoint.first_seq,
    last_seq: checkpoint.last_seq,
    merkle_root: checkpoint.merkle_root,
    last_entry_hash: checkpoint.last_entry_hash,
    previous_checkpoint_hash: checkpoint.previous_checkpoint_hash,
    created_at: checkpoint.created_at,
    key_id: checkpoint.key_id,
  }
}

/**
 * Lowercase hex SHA-256 of the UTF-8 of canonicalJson of the whole checkpoint, signature
 * included, so the next checkpoint's link pins this exact signed copy.
 */
export function checkpointHash(checkpoint: SignedCheckpoint): string {
  const signed = { ...checkpointBody(checkpoint), signature: checkpoint.signature }
  return createHash('sha256').update(canonicalJson(signed), 'utf8').digest('hex')
}

/**
 * An Ed25519 signature is 64 bytes: 88 base64 characters. Anything else is refused, and so is a
 * non-canonical spelling of the right bytes: it would verify, yet hash to another checkpoint hash.
 */
const signaturePattern = /^[A-Za-z0-9+/]{86}==$/

export function verifyCheckpointSignature(
  checkpoint: SignedCheckpoint,
  keys: PublicKeySet,
): 'valid' | 'unknown-key' | 'invalid' {
  const key = keys.get(checkpoint.key_id)
  if (key === undefined) return 'unknown-key'
  if (typeof checkpoint.signature !== 'string' || !signaturePattern.test(checkpoint.signature))
    return 'invalid'
  let body: Buffer
  try {
    body = Buffer.from(canonicalJson(checkpointBody(checkpoint)), 'utf8')
  } catch {
    // A stored checkpoint with no canonical form (a lone surrogate, a non-finite number) was not signed by us.
    return 'invalid'
  }
  const signature = Buffer.from(checkpoint.signature, 'base64')
  if (signature.toString('base64') !== checkpoint.signature) return 'invalid'
  return verify(null, body, key, signature) ? 'valid' : 'invalid'
}
