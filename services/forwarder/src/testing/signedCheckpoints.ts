import {
  appendToChain,
  buildCheckpoint,
  generateSigningKeyPem,
  genesisHead,
  parseSigningKey,
  type PublicKeySet,
  type SignedCheckpoint,
  type SigningKey,
} from '@audit-pipeline/integrity'

/** For tests: real signed checkpoints, made as the sink makes them (packages/integrity). Not part of the build. */

/** A fresh Ed25519 signing key, and the public key set a receiver would verify with. */
export function testSigningKey(): { key: SigningKey; keys: PublicKeySet } {
  const key = parseSigningKey(generateSigningKeyPem(), 'test key')
  return { key, keys: new Map([[key.keyId, key.publicKey]]) }
}

/**
 * `count` checkpoints of one chain, each covering `entriesEach` new entries and linked to the one
 * before: the chain's entries are real (appendToChain), so every root, link and signature is
 * what the sink would have published.
 */
export function signedCheckpoints(options: {
  tenant: string
  chain: string
  count: number
  key: SigningKey
  entriesEach?: number
  startMs?: number
}): SignedCheckpoint[] {
  const entriesEach = options.entriesEach ?? 3
  const startMs = options.startMs ?? Date.parse('2024-03-17T08:00:00Z')
  let head = genesisHead(options.tenant, options.chain)
  const checkpoints: SignedCheckpoint[] = []
  for (let n = 0; n < options.count; n++) {
    const entries: { seq: number; hash: string }[] = []
    for (let i = 0; i < entriesEach; i++) {
      const seq = head.nextSeq
      const appended = appendToChain(head, {
        event_id: `0000000${n}-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
        content_digest: seq.toString(16).padStart(64, '0'),
        occurred_at: startMs + seq * 1000,
        category: 'security',
      })
      head = appended.head
      entries.push({ seq, hash: appended.hash })
    }
    checkpoints.push(
      buildCheckpoint({
        tenant: options.tenant,
        chain: options.chain,
        previous: checkpoints.at(-1) ?? null,
        entries,
        createdAtMs: startMs + head.nextSeq * 1000,
        key: options.key,
      }),
    )
  }
  return checkpoints
}

/** The checkpoints topic's message for a checkpoint, as the sink writes it (its checkpointTopic.ts). */
export function checkpointMessage(checkpoint: SignedCheckpoint): { key: string; value: string } {
  return {
    key: `${checkpoint.tenant}/${checkpoint.chain}/${checkpoint.checkpoint_seq}`,
    value: JSON.stringify(checkpoint),
  }
}
