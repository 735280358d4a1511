import { describe, expect, it } from 'vitest'
import type { ChainEntry } from './chainEntry.js'
import type { SignedCheckpoint } from './checkpoint.js'
import {
  buildInclusionProof,
  type InclusionProofDocument,
  proofForm,
  verifyInclusionProof,
} from './inclusionProof.js'
import { generateSigningKeyPem, parsePublicKeys, parseSigningKey, publicKeysDocument } from './signingKeys.js'
import { syntheticChain } from './testSupport/syntheticChain.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const keys = parsePublicKeys(JSON.stringify(publicKeysDocument([key.publicKey])), 'test keys')
const otherKeys = parsePublicKeys(
  JSON.stringify(publicKeysDocument([parseSigningKey(generateSigningKeyPem(), 'other').publicKey])),
  'other keys',
)
const chain = syntheticChain({ length: 14, checkpointEvery: 7, key })

/** The proof of entry `seq` against the checkpoint covering it. */
function proofOf(seq: number): InclusionProofDocument {
  const checkpoint = chain.checkpoints.find(
    (c) => c.first_seq <= seq && seq <= c.last_seq,
  ) as SignedCheckpoint
  const { entry_hash: _hash, ...entry } = chain.items[seq]?.entry as ChainEntry & { entry_hash: string }
  return buildInclusionProof({
    event: chain.events[seq]!,
    entry,
    coveredEntryHashes: chain.hashes.slice(checkpoint.first_seq, checkpoint.last_seq + 1),
    checkpoint,
  })
}

describe('inclusion proofs', () => {
  it('verify for every entry of every checkpoint, and survive a JSON round trip', () => {
    for (let seq = 0; seq < 14; seq++) {
      const proof = proofOf(seq)
      expect(proof).toMatchObject({ form: proofForm, leaf_index: seq % 7, tree_size: 7 })
      expect(verifyInclusionProof(JSON.parse(JSON.stringify(proof)) as InclusionProofDocument, keys)).toEqual(
        { ok: true },
      )
    }
  })

  it('name the check that fails', () => {
    const proof = proofOf(9)
    const problems: [InclusionProofDocument, RegExp][] = [
      [{ ...proof, form: 'x' as typeof proofForm }, /^not an inclusion proof: form is "x"/],
      [
        { ...proof, event: { ...proof.event, category: 'security' } },
        /^the event's content digest [0-9a-f]{64} differs from the entry's/,
      ],
      [
        { ...proof, event: { ...proof.event, changes: [{ ...proof.event.changes[0]!, new_value: '121' }] } },
        /the event is not the one recorded$/,
      ],
      [
        { ...proof, event: { ...proof.event, note: 'not covered' } as typeof proof.event },
        /^the event is not in the audit-event\/1 form/,
      ],
      [
        { ...proof, entry: { ...proof.entry, seq: 10 } },
        /^leaf_index is 2, but entry 10 is leaf 3 of the checkpoint/,
      ],
      [{ ...proof, entry: { ...proof.entry, seq: 3 } }, /^checkpoint 1 covers seq 7\.\.13, not entry 3/],
      [
        { ...proof, entry: { ...proof.entry, chain: 'audit.normalized/4' } },
        /^the checkpoint is of acme audit\.normalized\/3/,
      ],
      [{ ...proof, tree_size: 8 }, /^tree_size is 8, but the checkpoint covers 7 entries/],
      [
        { ...proof, audit_path: [...proof.audit_path].reverse() },
        /^the audit path does not lead from entry 9's hash/,
      ],
      [{ ...proof, entry: { ...proof.entry, prev_hash: '0'.repeat(64) } }, /^the audit path does not lead/],
      [
        { ...proof, checkpoint: { ...proof.checkpoint, created_at: 0 } },
        /^checkpoint 1's signature does not verify with ed25519:/,
      ],
      [
        { ...proof, checkpoint: { ...proof.checkpoint, anchor: 'x' } as SignedCheckpoint },
        /^the checkpoint holds fields outside/,
      ],
      [
        { ...proof, entry: undefined } as unknown as InclusionProofDocument,
        /^the proof document is malformed/,
      ],
    ]
    for (const [document, problem] of problems) {
      const verdict = verifyInclusionProof(document, keys)
      expect(verdict.ok).toBe(false)
      expect(verdict.ok ? '' : verdict.problem).toMatch(problem)
    }
    expect(verifyInclusionProof(proof, otherKeys)).toEqual({
      ok: false,
      problem: `checkpoint 1 is signed by ${key.keyId}, which is not among the trusted keys`,
    })
  })

  it('refuse to build from parts that do not fit', () => {
    const proof = proofOf(2)
    const checkpoint = chain.checkpoints[0] as SignedCheckpoint
    const covered = chain.hashes.slice(0, 7)
    const build = (changes: Partial<Parameters<typeof buildInclusionProof>[0]>) =>
      buildInclusionProof({
        event: proof.event,
        entry: proof.entry,
        coveredEntryHashes: covered,
        checkpoint,
        ...changes,
      })
    expect(() => build({ coveredEntryHashes: covered.slice(1) })).toThrow(
      'checkpoint 0 covers 7 entries, 6 hashes given',
    )
    expect(() => build({ event: chain.events[3]! })).toThrow(/is not the event entry 2 records/)
    expect(() => build({ coveredEntryHashes: [...covered].reverse() })).toThrow(/do not hold entry 2's hash/)
    expect(() => build({ checkpoint: chain.checkpoints[1]! })).toThrow(/is not covered by checkpoint 1/)
  })
})
