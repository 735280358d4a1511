import { expiryOf, type RetentionPeriod } from '@audit-pipeline/clickhouse-schema'
import type { SignedCheckpoint } from '@audit-pipeline/integrity'

/** Where a chain's verification began, and why there. */
export type ChainStart = {
  /**
   * `chain-start`: from seq 0. `retention`: from the first checkpoint left, the ones before it and
   * their entries being gone with retention. `since`: from the first checkpoint made at or after
   * `--since`.
   */
  reason: 'chain-start' | 'retention' | 'since'
  /** The checkpoint verification started at (null: none, from seq 0). */
  checkpointSeq: number | null
  seq: number
}

/** What is stored of one (tenant, chain), read before its events (see verifyTrail). */
export type ChainPlanInput = {
  tenant: string
  chain: string
  /** The seqs of its stored entries, lowest and highest (null: no entry is stored). */
  stored: { firstSeq: number; lastSeq: number } | null
  /** With `--until`: the highest seq stored before it (null: none); undefined without `--until`. */
  lastSeqBeforeUntil?: number | null
  /** Its stored checkpoints, each distinct, in checkpoint_seq order. */
  checkpoints: readonly SignedCheckpoint[]
  sinceMs?: number
  nowMs: number
  checkpointGraceMs: number
  /** How long entries and checkpoints are kept (the policy's longest period, as the tables' TTL has it). */
  integrityRetention: RetentionPeriod
}

/** Which entries and checkpoints of a chain are verified. Entries outside fromSeq..toSeq are read only to claim their events. */
export type ChainPlan = {
  tenant: string
  chain: string
  start: ChainStart
  fromSeq: number
  /** Inclusive; below fromSeq when there is nothing to read. */
  toSeq: number
  /** Given to the chain verifier. */
  checkpoints: SignedCheckpoint[]
  /**
   * With `--until`: entries after this seq are covered by a stored checkpoint made after `--until`
   * (not verified in this run), so they are not judged overdue for one. Otherwise null.
   */
  coveredAfterSeq: number | null
}

/**
 * The range of one chain to verify. Pure.
 *
 * - Retention cuts a chain at its oldest end: entries go when `integrityRetention` has passed
 *   since they were stored, checkpoints when it has passed since they were made, so a checkpoint
 *   outlives its entries by the time they waited for it. Leading checkpoints whose range starts
 *   below the first stored entry are skipped as cut by retention when their entries may all have
 *   expired: made more than the retention period ago, less the grace an entry may wait for its
 *   checkpoint. A checkpoint too young for that is given to the verifier, which then reports its
 *   missing entries.
 * - `--since`: from the first checkpoint made at or after it (the entries stored since are all in
 *   its range or later ones), else from the last checkpoint, so the entries after it still link
 *   to a verified start; without checkpoints, from seq 0.
 * - `--until`: up to the last entry stored before it (or the end of the starting checkpoint, if
 *   later), with the checkpoints wholly below that.
 */
export function planChain(input: ChainPlanInput): ChainPlan {
  const { stored, nowMs, checkpointGraceMs, integrityRetention } = input
  const firstStored = stored?.firstSeq ?? Number.POSITIVE_INFINITY
  const toSeq =
    input.lastSeqBeforeUntil !== undefined ? (input.lastSeqBeforeUntil ?? -1) : (stored?.lastSeq ?? -1)

  let checkpoints = [...input.checkpoints]
  const mayHaveExpired = (checkpoint: SignedCheckpoint) =>
    expiryOf(integrityRetention, checkpoint.created_at - checkpointGraceMs) <= nowMs
  let cutByRetention = 0
  while (checkpoints.length > 0) {
    const first = checkpoints[0] as SignedCheckpoint
    if (!(first.first_seq < firstStored && mayHaveExpired(first))) break
    checkpoints.shift()
    cutByRetention++
  }

  let reason: ChainStart['reason'] =
    cutByRetention > 0 || (checkpoints[0]?.checkpoint_seq ?? 0) > 0 ? 'retention' : 'chain-start'
  if (input.sinceMs !== undefined && checkpoints.length > 0) {
    const sinceMs = input.sinceMs
    const index = checkpoints.findIndex((checkpoint) => checkpoint.created_at >= sinceMs)
    const startIndex = index < 0 ? checkpoints.length - 1 : index
    if (startIndex > 0) {
      checkpoints = checkpoints.slice(startIndex)
      reason = 'since'
    }
  }

  const start = checkpoints[0]
  if (input.lastSeqBeforeUntil === undefined) return plan(input, reason, start, toSeq, checkpoints, null)
  // The starting checkpoint is verified whole even when it reaches past --until: a range can only
  // start at a checkpoint (or seq 0), and its entries are all stored (it was made after them).
  const end = start === undefined ? toSeq : Math.max(toSeq, start.last_seq)
  const given = checkpoints.filter((checkpoint) => checkpoint.last_seq <= end)
  const coveredBeyond = checkpoints.some(
    (checkpoint) => checkpoint.last_seq > end && checkpoint.first_seq <= end,
  )
  return plan(input, reason, start, end, given, coveredBeyond ? (given.at(-1)?.last_seq ?? null) : null)
}

function plan(
  input: ChainPlanInput,
  reason: ChainStart['reason'],
  start: SignedCheckpoint | undefined,
  toSeq: number,
  checkpoints: SignedCheckpoint[],
  coveredAfterSeq: number | null,
): ChainPlan {
  const fromSeq = start?.first_seq ?? 0
  return {
    tenant: input.tenant,
    chain: input.chain,
    start: { reason, checkpointSeq: start?.checkpoint_seq ?? null, seq: fromSeq },
    fromSeq,
    toSeq,
    checkpoints,
    coveredAfterSeq,
  }
}
