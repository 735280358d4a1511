import { expiryOf, type RetentionPeriod } from '@audit-pipeline/clickhouse-schema'
import {
  checkpointHash,
  rolledBackFinding,
  type Finding,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'

/**
 * Checkpoints known from another copy (the checkpoints topic) against one chain's stored ones.
 * The sink writes a checkpoint to ClickHouse before it publishes it, so every published
 * checkpoint must be stored, exactly as published: one missing means storage was rolled back or
 * the checkpoint deleted (the newest checkpoints are what a rollback removes, and what the chain
 * alone cannot show missing); one stored differently means the chain was rewritten after a
 * rollback. Checkpoints retention has removed (made longer ago than the integrity tables keep
 * rows) are not expected. Pure.
 */
export function rolledBackFindings(options: {
  external: readonly SignedCheckpoint[]
  stored: readonly SignedCheckpoint[]
  foundIn: string
  nowMs: number
  integrityRetention: RetentionPeriod
}): Finding[] {
  const storedBySeq = new Map<number, Set<string>>()
  for (const checkpoint of options.stored) {
    const hashes = storedBySeq.get(checkpoint.checkpoint_seq) ?? new Set<string>()
    storedBySeq.set(checkpoint.checkpoint_seq, hashes.add(checkpointHash(checkpoint)))
  }
  const findings: Finding[] = []
  const seen = new Set<string>()
  for (const checkpoint of options.external) {
    const hash = checkpointHash(checkpoint)
    if (seen.has(hash)) continue
    seen.add(hash)
    if (expiryOf(options.integrityRetention, checkpoint.created_at) <= options.nowMs) continue
    const stored = storedBySeq.get(checkpoint.checkpoint_seq)
    if (stored?.has(hash)) continue
    if (stored === undefined) {
      findings.push(rolledBackFinding(checkpoint, options.foundIn))
      continue
    }
    findings.push({
      ...rolledBackFinding(checkpoint, options.foundIn),
      detail: `checkpoint ${checkpoint.checkpoint_seq} (seq ${checkpoint.first_seq}..${checkpoint.last_seq}) in ${options.foundIn} has hash ${hash}; storage holds a different checkpoint ${checkpoint.checkpoint_seq}: storage was rolled back and the chain written again`,
    })
  }
  return findings
}

/** Checkpoints grouped by tenant and chain (key: tenant, NUL, chain). */
export function checkpointsByChain(
  checkpoints: readonly SignedCheckpoint[],
): Map<string, SignedCheckpoint[]> {
  const byChain = new Map<string, SignedCheckpoint[]>()
  for (const checkpoint of checkpoints) {
    const key = chainKey(checkpoint.tenant, checkpoint.chain)
    const list = byChain.get(key)
    if (list === undefined) byChain.set(key, [checkpoint])
    else list.push(checkpoint)
  }
  return byChain
}

export const chainKey = (tenant: string, chain: string): string => `${tenant}\u0000${chain}`
