import { describe, expect, it } from 'vitest'
import { eraseJson, eraseSummary, type EraseReport } from './eraseOutput.js'

const digest = 'ab'.repeat(32)
const done: EraseReport = {
  tenant: 'acme',
  subjectDigest: digest,
  erasedAt: '2026-03-01T10:00:00.000Z',
  keysDestroyed: ['kOne'],
  erasureEvent: { eventId: '0190a4c2-7b1e-7c3d-8e4f-00000001f4a2', topic: 'audit.events' },
  inputRecords: [
    {
      topic: 'audit.events',
      partition: 0,
      status: 'removed',
      committedOffset: '120',
      fromOffset: '0',
      count: 120,
    },
    { topic: 'audit.events', partition: 1, status: 'no-committed-offset' },
    {
      topic: 'audit.events',
      partition: 2,
      status: 'nothing-to-remove',
      committedOffset: '4',
      earliestOffset: '4',
    },
    {
      topic: 'audit.events',
      partition: 3,
      status: 'failed',
      committedOffset: '9',
      error: 'POLICY_VIOLATION',
    },
  ],
  inputResidency: [
    {
      topic: 'audit.events',
      segmentMs: 3_600_000,
      retentionMs: 604_800_000,
      fileDeleteDelayMs: 60_000,
      retentionCheckMs: 300_000,
    },
  ],
  failures: [],
}

describe('erase output', () => {
  it('says what was done to the subject, named by its digest, and to each input partition', () => {
    expect(eraseSummary(done, 'audit-normalizer')).toEqual([
      `Data subject ${digest} of tenant acme:`,
      '  keys destroyed:   1 (kOne) at 2026-03-01T10:00:00.000Z: their values read [erased] from now on',
      '  erasure recorded: event 0190a4c2-7b1e-7c3d-8e4f-00000001f4a2 (subject.erase) on audit.events',
      '  input records the normalizer (group audit-normalizer) has handled:',
      '    audit.events[0]: removed 120 record(s), offsets 0 to 119',
      '    audit.events[1]: left as is: audit-normalizer has no committed offset here',
      '    audit.events[2]: nothing to remove (committed offset 4, earliest record 4)',
      '    audit.events[3]: NOT removed (committed offset 9): POLICY_VIOLATION',
      '  120 input record(s) removed from audit.events',
      "    audit.events: the removed records' bytes leave the brokers' disks with their segment: it rolls at the first record appended segment.ms (1 h) after it began (else retention.ms, 7 d, removes it), then is deleted within log.retention.check.interval.ms (5 min) + file.delete.delay.ms (1 min)",
    ])
  })

  it('says when the brokers would not tell their retention check, and an unlimited retention', () => {
    const residency = {
      topic: 'crm.raw',
      segmentMs: 1500,
      retentionMs: -1,
      fileDeleteDelayMs: 0,
      retentionCheckMs: undefined,
    }
    expect(eraseSummary({ ...done, inputResidency: [residency] }, 'g').at(-1)).toBe(
      "    crm.raw: the removed records' bytes leave the brokers' disks with their segment: it rolls at the first record appended segment.ms (1500 ms) after it began (else retention.ms, unlimited, removes it), then is deleted within the brokers’ log.retention.check.interval.ms (not reported) + file.delete.delay.ms (0 ms)",
    )
  })

  it('says when the subject had no keys, and when nothing was done', () => {
    expect(eraseSummary({ ...done, keysDestroyed: [], inputRecords: [] }, 'g')[1]).toBe(
      '  keys destroyed:   none held (nothing was sealed for this subject since its last erasure, if ever)',
    )
    const nothing: EraseReport = {
      ...done,
      erasedAt: null,
      keysDestroyed: null,
      erasureEvent: null,
      inputRecords: [],
      inputResidency: [],
      failures: ['nothing was erased: cannot connect to Kafka'],
    }
    expect(eraseSummary(nothing, 'g')).toEqual([
      `Data subject ${digest} of tenant acme:`,
      '  keys destroyed:   none (not erased)',
      '  erasure recorded: no',
    ])
  })

  it('prints one JSON object with the total removed', () => {
    expect(JSON.parse(eraseJson(done))).toEqual({ ...done, recordsRemoved: 120 })
  })
})
