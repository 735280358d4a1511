import { describe, expect, it } from 'vitest'
import {
  appendToChain,
  buildCheckpoint,
  generateSigningKeyPem,
  genesisHead,
  parseSigningKey,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import { planChain, type ChainPlanInput } from './chainPlan.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const dayMs = 86_400_000
const year = { amount: 1, unit: 'year' } as const

/** Checkpoints over 0..9, 10..19, …, made `createdAt(n)`. */
function checkpoints(count: number, createdAt: (n: number) => number): SignedCheckpoint[] {
  let head = genesisHead('acme', 'audit.normalized/0')
  const made: SignedCheckpoint[] = []
  for (let n = 0; n < count; n++) {
    const entries = []
    for (let i = 0; i < 10; i++) {
      const appended = appendToChain(head, {
        event_id: `e-${n}-${i}`,
        content_digest: '0'.repeat(64),
        occurred_at: 0,
        category: 'business',
      })
      head = appended.head
      entries.push({ seq: appended.entry.seq, hash: appended.hash })
    }
    made.push(
      buildCheckpoint({
        tenant: 'acme',
        chain: 'audit.normalized/0',
        previous: made.at(-1) ?? null,
        entries,
        createdAtMs: createdAt(n),
        key,
      }),
    )
  }
  return made
}

const nowMs = Date.parse('2026-06-01T00:00:00Z')
const base = (overrides: Partial<ChainPlanInput>): ChainPlanInput => ({
  tenant: 'acme',
  chain: 'audit.normalized/0',
  stored: { firstSeq: 0, lastSeq: 44 },
  checkpoints: checkpoints(4, (n) => nowMs - (4 - n) * dayMs),
  nowMs,
  checkpointGraceMs: 180_000,
  integrityRetention: year,
  ...overrides,
})
const summary = (plan: ReturnType<typeof planChain>) => ({
  start: plan.start,
  fromSeq: plan.fromSeq,
  toSeq: plan.toSeq,
  checkpoints: plan.checkpoints.map((checkpoint) => checkpoint.checkpoint_seq),
  coveredAfterSeq: plan.coveredAfterSeq,
})

describe('planChain', () => {
  it('verifies a whole chain from seq 0 with every checkpoint', () => {
    expect(summary(planChain(base({})))).toEqual({
      start: { reason: 'chain-start', checkpointSeq: 0, seq: 0 },
      fromSeq: 0,
      toSeq: 44,
      checkpoints: [0, 1, 2, 3],
      coveredAfterSeq: null,
    })
    expect(summary(planChain(base({ checkpoints: [] })))).toMatchObject({
      start: { reason: 'chain-start', checkpointSeq: null, seq: 0 },
      checkpoints: [],
    })
  })

  it('starts after what retention removed: checkpoints wholly or partly below the first stored entry, old enough to have gone', () => {
    const old = checkpoints(4, (n) => nowMs - 400 * dayMs + n * dayMs)
    // Entries 0..14 are gone: checkpoint 0 (0..9) wholly, checkpoint 1 (10..19) partly.
    const plan = planChain(base({ stored: { firstSeq: 15, lastSeq: 44 }, checkpoints: old }))
    expect(summary(plan)).toMatchObject({
      start: { reason: 'retention', checkpointSeq: 2, seq: 20 },
      checkpoints: [2, 3],
    })
    // Checkpoints 0 and 1 are gone too: the chain starts at the first left.
    expect(
      summary(planChain(base({ stored: { firstSeq: 20, lastSeq: 44 }, checkpoints: old.slice(2) }))),
    ).toMatchObject({
      start: { reason: 'retention', checkpointSeq: 2, seq: 20 },
    })
  })

  it('keeps a checkpoint whose entries are gone but too young for retention to have removed them (the verifier reports them)', () => {
    const plan = planChain(base({ stored: { firstSeq: 15, lastSeq: 44 } }))
    expect(summary(plan)).toMatchObject({
      start: { reason: 'chain-start', checkpointSeq: 0, seq: 0 },
      checkpoints: [0, 1, 2, 3],
    })
  })

  it('starts at the first checkpoint made at or after --since, else at the last one', () => {
    const made = base({}).checkpoints
    expect(summary(planChain(base({ sinceMs: made[2]!.created_at })))).toMatchObject({
      start: { reason: 'since', checkpointSeq: 2, seq: 20 },
      checkpoints: [2, 3],
    })
    expect(summary(planChain(base({ sinceMs: made[2]!.created_at - 1 })))).toMatchObject({
      start: { reason: 'since', checkpointSeq: 2, seq: 20 },
    })
    expect(summary(planChain(base({ sinceMs: nowMs })))).toMatchObject({
      start: { reason: 'since', checkpointSeq: 3, seq: 30 },
      toSeq: 44,
    })
    expect(summary(planChain(base({ sinceMs: 0 })))).toMatchObject({
      start: { reason: 'chain-start', seq: 0 },
    })
  })

  it('ends at the last entry stored before --until, with the checkpoints wholly before it', () => {
    expect(summary(planChain(base({ lastSeqBeforeUntil: 25 })))).toEqual({
      start: { reason: 'chain-start', checkpointSeq: 0, seq: 0 },
      fromSeq: 0,
      toSeq: 25,
      checkpoints: [0, 1],
      coveredAfterSeq: 19,
    })
    // A range starts at a checkpoint: the starting one is verified whole.
    expect(summary(planChain(base({ lastSeqBeforeUntil: 3 })))).toMatchObject({ toSeq: 9, checkpoints: [0] })
    expect(summary(planChain(base({ lastSeqBeforeUntil: null, checkpoints: [] })))).toMatchObject({
      toSeq: -1,
    })
  })
})
