import { describe, expect, it } from 'vitest'
import {
  addInboxLine,
  alertCounts,
  alertedEvents,
  alertRedeliveries,
  createInboxTally,
  disabledRules,
} from './inboxDeliveries.js'

const line = (delivery: Record<string, unknown>) =>
  JSON.stringify({ received_at: '2026-12-07T19:00:00.000Z', verified: true, ...delivery })

const alert = (webhookId: string, rule: string, ids: string[], status = 'raised', groupKey = 'g') =>
  line({
    path: '/ops',
    webhook_id: webhookId,
    body: {
      type: 'audit.alert',
      timestamp: '2026-12-07T19:00:00.000Z',
      data: { rule, status, group_key: groupKey, triggering_event_ids: ids },
    },
  })

describe('the inbox tally', () => {
  it('takes every event id of each forwarded batch, copies included', () => {
    const tally = createInboxTally()
    addInboxLine(
      tally,
      line({ path: '/siem', webhook_id: 'msg_1', body: [{ event_id: 'a' }, { event_id: 'b' }] }),
    )
    addInboxLine(tally, line({ path: '/siem', webhook_id: 'msg_2', body: [{ event_id: 'b' }] }))
    expect(tally.forwarded).toEqual([{ eventId: 'a' }, { eventId: 'b' }, { eventId: 'b' }])
  })

  it('counts an alert once per webhook-id, its repeats apart', () => {
    const tally = createInboxTally()
    addInboxLine(tally, alert('msg_1', 'priority-lowered-by-non-supervisor', ['e1']))
    addInboxLine(tally, alert('msg_1', 'priority-lowered-by-non-supervisor', ['e1']))
    addInboxLine(tally, alert('msg_2', 'priority-lowered-by-non-supervisor', ['e2']))
    addInboxLine(tally, alert('msg_3', 'priority-lowered-by-non-supervisor', ['e3'], 'resolved'))
    addInboxLine(tally, alert('msg_4', 'new-ip-for-user', ['e4']))
    expect(alertedEvents(tally, 'priority-lowered-by-non-supervisor')).toEqual([
      { eventId: 'e1' },
      { eventId: 'e2' },
    ])
    expect(alertRedeliveries(tally)).toBe(1)
    expect(alertCounts(tally)).toEqual([
      ['priority-lowered-by-non-supervisor raised', 2],
      ['new-ip-for-user raised', 1],
      ['priority-lowered-by-non-supervisor resolved', 1],
    ])
  })

  it('names the rules the alerting service disabled, once each', () => {
    const tally = createInboxTally()
    addInboxLine(tally, alert('msg_1', 'pipeline.rule-disabled', ['e1'], 'raised', 'new-ip-for-user'))
    addInboxLine(tally, alert('msg_2', 'pipeline.rule-disabled', ['e2'], 'raised', 'closed-by-someone-else'))
    addInboxLine(tally, alert('msg_3', 'pipeline.rule-disabled', ['e3'], 'raised', 'new-ip-for-user'))
    expect(disabledRules(tally)).toEqual(['closed-by-someone-else', 'new-ip-for-user'])
  })

  it('leaves out deliveries whose signature did not verify, and counts what it cannot read', () => {
    const tally = createInboxTally()
    addInboxLine(tally, line({ path: '/siem', verified: false, body: [{ event_id: 'a' }] }))
    addInboxLine(tally, 'not json')
    addInboxLine(tally, line({ path: '/elsewhere', body: {} }))
    expect(tally).toMatchObject({ forwarded: [], rejected: 1, unknown: 2 })
  })
})
