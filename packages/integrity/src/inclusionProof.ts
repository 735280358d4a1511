import { isDeepStrictEqual } from 'node:util'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { canonicalEvent, eventForm } from './canonicalForm.js'
import { type ChainEntry, entryHash, entryHashBytes } from './chainEntry.js'
import { checkpointBody, type SignedCheckpoint, verifyCheckpointSignature } from './checkpoint.js'
import { contentDigest } from './contentDigest.js'
import { inclusionProof, verifyInclusion } from './merkleTree.js'
import type { PublicKeySet } from './signingKeys.js'

/**
 * An inclusion proof: one event, its chain entry, the audit path from the entry's leaf to the
 * root of a signed checkpoint, and that checkpoint. Whoever holds it and the published public keys
 * can check, without access to the pipeline, that this exact event was recorded at that place in
 * the chain before the checkpoint was signed (standalone/verify-proof.mjs does it in one file).
 */
export const proofForm = 'audit-pipeline/inclusion-proof/1'

export type InclusionProofDocument = {
  form: typeof proofForm
  event: AuditEvent
  entry: ChainEntry
  leaf_index: number
  tree_size: number
  /** lowercase hex, lowest level first */
  audit_path: string[]
  checkpoint: SignedCheckpoint
}

export type ProofVerdict = { ok: true } | { ok: false; problem: string }

/**
 * The proof that `entry` (recording `event`) is covered by `checkpoint`, whose entries' hashes
 * are `coveredEntryHashes` in seq order. Inputs that do not fit together are a caller's bug and
 * throw; the document is checked before it is returned.
 */
export function buildInclusionProof(options: {
  event: AuditEvent
  entry: ChainEntry
  coveredEntryHashes: readonly string[]
  checkpoint: SignedCheckpoint
}): InclusionProofDocument {
  const { event, entry, coveredEntryHashes, checkpoint } = options
  const treeSize = checkpoint.last_seq - checkpoint.first_seq + 1
  const leafIndex = entry.seq - checkpoint.first_seq
  if (coveredEntryHashes.length !== treeSize) {
    throw new RangeError(
      `checkpoint ${checkpoint.checkpoint_seq} covers ${treeSize} entries, ${coveredEntryHashes.length} hashes given`,
    )
  }
  if (
    entry.tenant !== checkpoint.tenant ||
    entry.chain !== checkpoint.chain ||
    leafIndex < 0 ||
    leafIndex >= treeSize
  ) {
    throw new RangeError(
      `entry ${entry.seq} of ${entry.tenant} ${entry.chain} is not covered by checkpoint ${checkpoint.checkpoint_seq} of ${checkpoint.tenant} ${checkpoint.chain} (seq ${checkpoint.first_seq}..${checkpoint.last_seq})`,
    )
  }
  if (contentDigest(event) !== entry.content_digest)
    throw new Error(`event ${event.event_id} is not the event entry ${entry.seq} records`)
  if (coveredEntryHashes[leafIndex] !== entryHash(entry)) {
    throw new Error(`the covered hashes do not hold entry ${entry.seq}'s hash at index ${leafIndex}`)
  }
  const leaves = coveredEntryHashes.map((hash) => Buffer.from(hash, 'hex'))
  const { form: _form, ...storedEvent } = canonicalEvent(event)
  const document: InclusionProofDocument = {
    form: proofForm,
    event: storedEvent as AuditEvent,
    entry: chainEntryFields(entry),
    leaf_index: leafIndex,
    tree_size: treeSize,
    audit_path: inclusionProof(leafIndex, leaves).map((hash) => hash.toString('hex')),
    checkpoint: { ...checkpointBody(checkpoint), signature: checkpoint.signature },
  }
  const verdict = verifyProofParts(document, null)
  if (!verdict.ok)
    throw new Error(`the proof built for entry ${entry.seq} does not verify: ${verdict.problem}`)
  return document
}

/**
 * Checks, in this order, and names the first that fails: the document's form; that the event,
 * entry and checkpoint hold exactly their forms' fields (anything more would not be covered by a
 * hash, yet read as if it were); the event's content digest against the entry; event id and
 * tenant against the entry; that the checkpoint is of the entry's (tenant, chain) and covers its
 * seq at leaf_index = seq - first_seq in a tree of tree_size = last_seq - first_seq + 1; the
 * audit path from the entry's hash to merkle_root (RFC 9162 §2.1.3.2); the checkpoint's
 * signature by a key in `keys`.
 */
export function verifyInclusionProof(document: InclusionProofDocument, keys: PublicKeySet): ProofVerdict {
  try {
    return verifyProofParts(document, keys)
  } catch (error) {
    // A document read from a file may be missing anything: say so rather than throw.
    return {
      ok: false,
      problem: `the proof document is malformed (${error instanceof Error ? error.message : String(error)})`,
    }
  }
}

const hashPattern = /^[0-9a-f]{64}$/

/** keys null: everything but the signature (the builder's self-check, which has no key set). */
function verifyProofParts(document: InclusionProofDocument, keys: PublicKeySet | null): ProofVerdict {
  const fail = (problem: string): ProofVerdict => ({ ok: false, problem })
  const { event, entry, checkpoint } = document
  const form: unknown = document.form
  if (form !== proofForm)
    return fail(`not an inclusion proof: form is ${JSON.stringify(form)}, expected ${proofForm}`)
  if (!isDeepStrictEqual({ form: eventForm, ...event }, canonicalEvent(event))) {
    return fail(`the event is not in the ${eventForm} form: it holds fields or values outside it`)
  }
  if (!isDeepStrictEqual(entry, chainEntryFields(entry)))
    return fail('the entry holds fields outside the chain entry form')
  if (!isDeepStrictEqual(checkpoint, { ...checkpointBody(checkpoint), signature: checkpoint.signature })) {
    return fail('the checkpoint holds fields outside the checkpoint form')
  }
  const digest = contentDigest(event)
  if (digest !== entry.content_digest) {
    return fail(
      `the event's content digest ${digest} differs from the entry's ${entry.content_digest}: the event is not the one recorded`,
    )
  }
  if (event.event_id !== entry.event_id)
    return fail(`the event's id ${event.event_id} differs from the entry's ${entry.event_id}`)
  if (event.tenant !== entry.tenant)
    return fail(`the event's tenant ${event.tenant} differs from the entry's ${entry.tenant}`)
  if (event.occurred_at !== entry.occurred_at || event.category !== entry.category)
    return fail(`the event's occurred_at and category differ from the entry's`)
  if (checkpoint.tenant !== entry.tenant || checkpoint.chain !== entry.chain) {
    return fail(
      `the checkpoint is of ${checkpoint.tenant} ${checkpoint.chain}, the entry of ${entry.tenant} ${entry.chain}`,
    )
  }
  if (entry.seq < checkpoint.first_seq || entry.seq > checkpoint.last_seq) {
    return fail(
      `checkpoint ${checkpoint.checkpoint_seq} covers seq ${checkpoint.first_seq}..${checkpoint.last_seq}, not entry ${entry.seq}`,
    )
  }
  if (document.leaf_index !== entry.seq - checkpoint.first_seq) {
    return fail(
      `leaf_index is ${document.leaf_index}, but entry ${entry.seq} is leaf ${entry.seq - checkpoint.first_seq} of the checkpoint`,
    )
  }
  if (document.tree_size !== checkpoint.last_seq - checkpoint.first_seq + 1) {
    return fail(
      `tree_size is ${document.tree_size}, but the checkpoint covers ${checkpoint.last_seq - checkpoint.first_seq + 1} entries`,
    )
  }
  if (
    !document.audit_path.every((hash) => hashPattern.test(hash)) ||
    !hashPattern.test(checkpoint.merkle_root)
  ) {
    return fail('audit_path and merkle_root must be lowercase hex SHA-256 hashes')
  }
  const included = verifyInclusion({
    leafIndex: document.leaf_index,
    treeSize: document.tree_size,
    leafHash: entryHashBytes(entry),
    auditPath: document.audit_path.map((hash) => Buffer.from(hash, 'hex')),
    root: Buffer.from(checkpoint.merkle_root, 'hex'),
  })
  if (!included)
    return fail(
      `the audit path does not lead from entry ${entry.seq}'s hash to checkpoint ${checkpoint.checkpoint_seq}'s merkle_root`,
    )
  if (keys === null) return { ok: true }
  switch (verifyCheckpointSignature(checkpoint, keys)) {
    case 'valid':
      return { ok: true }
    case 'unknown-key':
      return fail(
        `checkpoint ${checkpoint.checkpoint_seq} is signed by ${checkpoint.key_id}, which is not among the trusted keys`,
      )
    case 'invalid':
      return fail(
        `checkpoint ${checkpoint.checkpoint_seq}'s signature does not verify with ${checkpoint.key_id}`,
      )
  }
}

function chainEntryFields(entry: ChainEntry): ChainEntry {
  const { tenant, chain, seq, event_id, content_digest, occurred_at, category, prev_hash } = entry
  return { tenant, chain, seq, event_id, content_digest, occurred_at, category, prev_hash }
}
