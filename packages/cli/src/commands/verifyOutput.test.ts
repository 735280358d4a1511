import { describe, expect, it } from 'vitest'
import type { ChainVerification, TrailReport } from '@audit-pipeline/verification'
import { tableLines } from './queryOutput.js'
import { findingsListing, verifySummaryLines } from './verifyOutput.js'

const chain = (overrides: Partial<ChainVerification>): ChainVerification => ({
  tenant: 'acme',
  chain: 'audit.normalized/0',
  entries: 40,
  checkpoints: 4,
  firstVerifiedSeq: 0,
  startsAtCheckpoint: null,
  findings: [],
  findingsOmitted: 0,
  start: { reason: 'chain-start', checkpointSeq: 0, seq: 0 },
  lastSeq: 39,
  expired: 0,
  ...overrides,
})

const report = (overrides: Partial<TrailReport> = {}): TrailReport => ({
  verifiedAt: '2026-06-01T12:00:00.000Z',
  range: { since: null, until: null },
  tenants: ['acme', 'globex'],
  chains: [
    chain({}),
    chain({
      chain: 'audit.normalized/1',
      start: { reason: 'retention', checkpointSeq: 2, seq: 20 },
      startsAtCheckpoint: 2,
      expired: 12,
    }),
    chain({ tenant: 'globex', start: { reason: 'since', checkpointSeq: 5, seq: 50 } }),
  ],
  inserted: [],
  rolledBack: [],
  checkpointsCompared: null,
  eventsFrom: null,
  totals: {
    tenants: 2,
    chains: 3,
    entries: 120,
    events: 1_234_567,
    checkpoints: 12,
    expired: 12,
    findings: 0,
    findingsOmitted: 0,
    threads: 2,
    seconds: 6.17,
    eventsPerSecond: 200_091,
  },
  intact: true,
  ...overrides,
})

describe('verify output', () => {
  it('summarises what was verified, where chains started late and why, the topic comparison, the speed and the verdict', () => {
    expect(
      verifySummaryLines(report(), {
        topic: null,
        why: 'KAFKA_BROKERS is not set and no --checkpoints-topic was given',
      }),
    ).toEqual([
      'Verified 2 tenants (acme, globex), 3 chains: 120 entries, 1,234,567 stored events, 12 checkpoints; 12 events expired by retention.',
      'Chains verified from a later start:',
      '  acme audit.normalized/1: from checkpoint 2 (seq 20): the checkpoints and entries before it are gone with retention',
      '  globex audit.normalized/0: from checkpoint 5 (seq 50): the first checkpoint made at or after --since',
      'Not compared with the checkpoints topic (KAFKA_BROKERS is not set and no --checkpoints-topic was given): storage rolled back to an older copy would not be found. Set KAFKA_BROKERS, or pass --checkpoints-topic.',
      'Took 6.2 s: 200,091 events/s (2 worker threads).',
      'INTACT: no findings.',
    ])
    const compared = verifySummaryLines(
      report({
        checkpointsCompared: 12,
        intact: false,
        totals: { ...report().totals, findings: 2, findingsOmitted: 1000 },
        range: { since: '2026-05-01T00:00:00.000Z', until: null },
      }),
      { topic: 'audit.checkpoints' },
    )
    expect(compared[0]).toContain('3 chains since 2026-05-01T00:00:00.000Z:')
    expect(compared.slice(-3)).toEqual([
      'Checkpoints topic audit.checkpoints: 12 checkpoints compared with storage.',
      'Took 6.2 s: 200,091 events/s (2 worker threads).',
      'NOT INTACT: 1,002 findings (1,000 counted but not listed).',
    ])
  })

  it('lists each finding with its kind, tenant, chain, seq, checkpoint, event id and detail', () => {
    const findings = report({
      chains: [
        chain({
          findings: [
            {
              kind: 'event-modified',
              tenant: 'acme',
              chain: 'audit.normalized/0',
              seq: 12,
              event_id: '0190a4c2-7b1e-7c3d-8e4f-00000000000c',
              detail: 'event … as stored has content digest a, entry 12 recorded b',
            },
          ],
        }),
      ],
      rolledBack: [
        {
          kind: 'checkpoint-rolled-back',
          tenant: 'globex',
          chain: 'audit.normalized/0',
          seq: 15,
          checkpoint_seq: 3,
          detail: 'in the topic',
        },
      ],
      inserted: [
        { kind: 'event-inserted', tenant: 'acme', chain: '', event_id: 'f0f0', detail: 'no entry\u001b[2J' },
      ],
    })
    expect(tableLines(findingsListing(findings), 1_000)).toEqual([
      'KIND                    TENANT  CHAIN               SEQ  CHECKPOINT  EVENT ID                              DETAIL',
      'event-modified          acme    audit.normalized/0  12               0190a4c2-7b1e-7c3d-8e4f-00000000000c  event … as stored has content digest a, entry 12 recorded b',
      'event-inserted          acme                                         f0f0                                  no entry\\x1b[2J',
      'checkpoint-rolled-back  globex  audit.normalized/0  15   3                                                 in the topic',
    ])
  })
})
