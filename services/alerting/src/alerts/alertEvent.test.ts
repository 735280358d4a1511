import { describe, expect, it } from 'vitest'
import { eventProblems } from '@audit-pipeline/event-model'
import { alertEvent, alertPayloadOf, groupingOf } from './alertEvent.js'
import { alertIdFor, type AlertNotice } from './alertNotice.js'

const notice: AlertNotice = {
  status: 'raised',
  alertId: alertIdFor('mass-delete', 'acme\u0001u-mass', 1_772_440_000_000),
  ruleId: 'mass-delete',
  ruleKind: 'threshold',
  severity: 'critical',
  description: '50 deletes by one user in 5 minutes',
  tenant: 'acme',
  groupKey: 'u-mass',
  atMs: 1_772_440_100_000,
  windowStartMs: 1_772_440_000_000,
  windowEndMs: 1_772_440_300_000,
  figures: { count: 50, at_least: 50 },
  triggeringEvents: [
    { eventId: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', contentDigest: 'a'.repeat(64) },
    { eventId: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02', contentDigest: null },
  ],
}

describe('alert events', () => {
  it('are valid canonical events that read back into the webhook payload', () => {
    const event = alertEvent(notice, { instance: 'a-1', version: '0.1.0' }, 1_772_440_100_500, {
      groupId: notice.alertId,
      groupSize: 1,
    })
    expect(eventProblems(event, 1_772_440_200_000)).toEqual([])
    expect(event).toMatchObject({
      event_id: notice.alertId,
      category: 'security',
      action: { kind: 'operation', name: 'alert.raised' },
      object: { type: 'alert', id: notice.alertId, id2: 'mass-delete' },
      severity: 'critical',
    })
    expect(alertPayloadOf(event)).toMatchObject({
      alert_id: notice.alertId,
      rule: 'mass-delete',
      group_key: 'u-mass',
      figures: { count: 50, at_least: 50 },
      triggering_event_ids: ['0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02'],
      triggering_events: [
        { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', content_digest: 'a'.repeat(64) },
        { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02', content_digest: null },
      ],
      clickhouse_query:
        "SELECT * FROM audit_events_deduplicated WHERE event_id IN ('0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02') ORDER BY occurred_at",
    })
  })

  it('carry the triggering events with their digests as an attribute, next to the ids', () => {
    const event = alertEvent(notice, { instance: null, version: null }, notice.atMs, {
      groupId: notice.alertId,
      groupSize: 1,
    })
    expect(JSON.parse(event.attributes['alert.triggering_events'] ?? '')).toEqual([
      { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', content_digest: 'a'.repeat(64) },
      { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02', content_digest: null },
    ])
    expect(JSON.parse(event.attributes['alert.triggering_event_ids'] ?? '')).toEqual([
      '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01',
      '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02',
    ])
  })

  it('written before the digests were carried, read back with the ids and unknown digests', () => {
    const event = alertEvent(notice, { instance: null, version: null }, notice.atMs, {
      groupId: notice.alertId,
      groupSize: 1,
    })
    const { ['alert.triggering_events']: _dropped, ...older } = event.attributes
    expect(alertPayloadOf({ ...event, attributes: older })?.triggering_events).toEqual([
      { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a01', content_digest: null },
      { event_id: '0d9d5c1e-6a1f-4f0e-9b7a-1c2d3e4f5a02', content_digest: null },
    ])
  })

  it('say what of the event their group key and figures are made from, for the query API to hide from analysts', () => {
    const grouping = { groupId: notice.alertId, groupSize: 1 }
    const source = { instance: null, version: null }
    expect(alertEvent(notice, source, notice.atMs, grouping).attributes['alert.reveals']).toBe('')
    const byAddress = { ...notice, groupKey: '203.0.113.7', reveals: ['ip', 'session_id'] as const }
    expect(alertEvent(byAddress, source, notice.atMs, grouping).attributes['alert.reveals']).toBe(
      'ip,session_id',
    )
  })

  it('have ids that are UUIDs and the same for the same rule, group and window', () => {
    expect(notice.alertId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(alertIdFor('mass-delete', 'acme\u0001u-mass', 1_772_440_000_000)).toBe(notice.alertId)
    expect(alertIdFor('mass-delete', 'acme\u0001u-other', 1_772_440_000_000)).not.toBe(notice.alertId)
  })

  it('raised together by one rule, share a group', () => {
    const other = { ...notice, alertId: 'b', groupKey: 'u-2' }
    const third = { ...notice, alertId: 'c', ruleId: 'other-rule' }
    expect(groupingOf([notice, other, third])).toEqual([
      { groupId: notice.alertId, groupSize: 2 },
      { groupId: notice.alertId, groupSize: 2 },
      { groupId: 'c', groupSize: 1 },
    ])
  })
})
