import { describe, expect, it } from 'vitest'
import {
  appendToChain,
  buildCheckpoint,
  generateSigningKeyPem,
  genesisHead,
  parseSigningKey,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import { rolledBackFindings } from './rolledBack.js'

const key = parseSigningKey(generateSigningKeyPem(), 'test key')
const nowMs = Date.parse('2026-06-01T00:00:00Z')

function checkpointsMadeAt(times: readonly number[]): SignedCheckpoint[] {
  let head = genesisHead('acme', 'audit.normalized/0')
  const made: SignedCheckpoint[] = []
  for (const createdAtMs of times) {
    const appended = appendToChain(head, {
      event_id: `e${made.length}`,
      content_digest: '0'.repeat(64),
      occurred_at: 0,
      category: 'x',
    })
    head = appended.head
    made.push(
      buildCheckpoint({
        tenant: 'acme',
        chain: 'audit.normalized/0',
        previous: made.at(-1) ?? null,
        entries: [{ seq: appended.entry.seq, hash: appended.hash }],
        createdAtMs,
        key,
      }),
    )
  }
  return made
}

const options = {
  foundIn: 'the checkpoints topic',
  nowMs,
  integrityRetention: { amount: 1, unit: 'year' } as const,
}

describe('rolledBackFindings', () => {
  it('finds nothing when storage holds every published checkpoint as published', () => {
    const published = checkpointsMadeAt([nowMs - 3000, nowMs - 2000, nowMs - 1000])
    expect(
      rolledBackFindings({ ...options, external: [...published, published[0]!], stored: published }),
    ).toEqual([])
  })

  it('names a published checkpoint storage lacks, and one storage holds differently', () => {
    const published = checkpointsMadeAt([nowMs - 3000, nowMs - 2000, nowMs - 1000])
    const rewritten = { ...published[1]!, created_at: published[1]!.created_at + 1 }
    const findings = rolledBackFindings({
      ...options,
      external: published,
      stored: [published[0]!, rewritten],
    })
    expect(findings.map((finding) => [finding.kind, finding.checkpoint_seq, finding.seq])).toEqual([
      ['checkpoint-rolled-back', 1, 1],
      ['checkpoint-rolled-back', 2, 2],
    ])
    expect(findings[0]?.detail).toContain('storage holds a different checkpoint 1')
    expect(findings[1]?.detail).toContain('is in the checkpoints topic but not in storage')
  })

  it('expects no checkpoint that retention has removed', () => {
    const published = checkpointsMadeAt([nowMs - 400 * 86_400_000, nowMs - 1000])
    expect(rolledBackFindings({ ...options, external: published, stored: [published[1]!] })).toEqual([])
  })
})
