import { describe, expect, it } from 'vitest'
import { deadLetterHeaderNames } from '@audit-pipeline/dead-letter'
import { eventProblems } from '@audit-pipeline/event-model'
import { consumedMessage, deadLetterMessage, sampleConflict } from '../testSupport/deadLetters.js'
import { alertPayloadOf } from './alertEvent.js'
import { readConflictAlert } from './conflictAlert.js'

const dlq = { topic: 'audit.dlq', partition: 0, offset: '17' }

/** Reads a dead letter as the conflict alerts' steps do. */
const read = (...args: Parameters<typeof deadLetterMessage>) =>
  readConflictAlert(consumedMessage(deadLetterMessage(...args)), dlq)

const alertOf = (...args: Parameters<typeof deadLetterMessage>) => {
  const reading = read(...args)
  if (reading.kind !== 'alert') throw new Error(`expected an alert, got ${JSON.stringify(reading)}`)
  return reading
}

describe('an EVENT_ID_CONFLICT dead letter', () => {
  it('becomes a critical security alert in the customer’s tenant, naming the event, both digests and who refused it', () => {
    const { notice, event } = alertOf({ conflict: sampleConflict, service: 'clickhouse-sink' })
    expect(notice).toMatchObject({
      status: 'raised',
      ruleId: 'pipeline.event-id-conflict',
      ruleKind: 'pipeline',
      severity: 'critical',
      tenant: 'acme',
      groupKey: sampleConflict.eventId,
      atMs: Date.parse('2026-03-02T09:00:00.000Z'),
      figures: {
        event_id: sampleConflict.eventId,
        stored_digest: sampleConflict.storedDigest,
        refused_digest: sampleConflict.refusedDigest,
        refused_by: 'clickhouse-sink',
        source_topic: 'audit.events',
        source_partition: 3,
        source_offset: '1234',
      },
      triggeringEvents: [{ eventId: sampleConflict.eventId, contentDigest: sampleConflict.refusedDigest }],
    })
    for (const named of [
      sampleConflict.eventId,
      sampleConflict.storedDigest,
      sampleConflict.refusedDigest,
      'clickhouse-sink',
    ])
      expect(notice.description).toContain(named)

    // A valid canonical alert event, as the alerts topic carries them.
    expect(eventProblems(event, Date.parse('2026-03-02T09:00:01Z'))).toEqual([])
    expect(event).toMatchObject({
      event_id: notice.alertId,
      tenant: 'acme',
      category: 'security',
      severity: 'critical',
      action: { name: 'alert.raised' },
      object: { type: 'alert', id: notice.alertId, id2: 'pipeline.event-id-conflict' },
    })
    expect(alertPayloadOf(event)).toMatchObject({
      rule: 'pipeline.event-id-conflict',
      rule_kind: 'pipeline',
      group_key: sampleConflict.eventId,
      triggering_event_ids: [sampleConflict.eventId],
      triggering_events: [{ event_id: sampleConflict.eventId, content_digest: sampleConflict.refusedDigest }],
    })
  })

  it('read again (after a crash, by another instance, later) gives the identical alert event', () => {
    const first = alertOf({ conflict: sampleConflict })
    const again = readConflictAlert(consumedMessage(deadLetterMessage({ conflict: sampleConflict })), {
      ...dlq,
      offset: '17',
    })
    expect(again).toEqual(first)
    expect(first.notice.alertId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    expect(first.event.source).toEqual({ service: 'audit-alerting', instance: null, version: null })
    expect(first.event.recorded_at).toBe(first.event.occurred_at)
  })

  it('has an id of its own per tenant, event, refused copy, and refusal', () => {
    const idOf = (...args: Parameters<typeof deadLetterMessage>) => alertOf(...args).notice.alertId
    const id = idOf({ conflict: sampleConflict })
    expect(
      new Set([
        id,
        idOf({ conflict: { ...sampleConflict, tenant: 'globex' } }),
        idOf({ conflict: { ...sampleConflict, eventId: '1b9a1f9e-8f0a-4c55-9a53-8f5d0e8d2a11' } }),
        idOf({ conflict: { ...sampleConflict, refusedDigest: 'c'.repeat(64) } }),
        // The same copy refused again (a producer's retry): another alert, not the same id with
        // other content, which would itself look like a rewrite downstream.
        idOf({ conflict: sampleConflict, offset: '1235' }),
        idOf({ conflict: sampleConflict, failedAt: new Date('2026-03-02T09:00:05.000Z') }),
      ]).size,
    ).toBe(6)
  })

  it('whose conflict is missing or malformed is unreadable, not an alert', () => {
    expect(read({ errorClass: 'EVENT_ID_CONFLICT' })).toMatchObject({
      kind: 'unreadable',
      reason: 'CONFLICT_INVALID',
      problem: expect.stringContaining('without its conflict headers') as string,
    })
    expect(read({ conflict: { ...sampleConflict, refusedDigest: 'B'.repeat(64), eventId: 'e-1' } })).toEqual({
      kind: 'unreadable',
      reason: 'CONFLICT_INVALID',
      problem: 'the event id is not a UUID; the refused digest is not lowercase hex SHA-256',
    })
    expect(read({ conflict: { ...sampleConflict, tenant: ' ' } })).toMatchObject({
      reason: 'CONFLICT_INVALID',
    })
  })
})

describe('other messages on the dead-letter topic', () => {
  it('a dead letter of another class is skipped, even with conflict headers', () => {
    expect(read({ errorClass: 'EVENT_INVALID' })).toEqual({ kind: 'other', errorClass: 'EVENT_INVALID' })
    expect(read({ errorClass: 'RECORD_FAILED', conflict: sampleConflict })).toEqual({
      kind: 'other',
      errorClass: 'RECORD_FAILED',
    })
  })

  it('a message that is not a dead letter (DeadLetterFormatError) is unreadable, naming what is wrong', () => {
    const message = consumedMessage(deadLetterMessage({ conflict: sampleConflict }))
    delete message.headers[deadLetterHeaderNames.refusedDigest]
    expect(readConflictAlert(message, dlq)).toMatchObject({
      kind: 'unreadable',
      reason: 'NOT_A_DEAD_LETTER',
      problem: expect.stringMatching(/audit\.dlq\/0\/17 is not a dead letter: .*1 missing/) as string,
    })
    expect(readConflictAlert({ key: null, value: Buffer.from('x'), headers: {} }, dlq)).toMatchObject({
      kind: 'unreadable',
      reason: 'NOT_A_DEAD_LETTER',
    })
  })
})
