import { describe, expect, it } from 'vitest'
import { parseEventJson, type AuditEvent, type ReservedNamespace } from '@audit-pipeline/event-model'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { decodeRow } from './decodeRow.js'
import { RecordRefusedError } from './recordRefused.js'
import { temporalLevelHeader } from './rowTarget.js'

const ticket: AuditEvent = {
  ...parseEventJson(JSON.parse(ticketExampleLines()[0]!)),
  recorded_at: Date.parse('2024-03-16T13:12:01Z'),
}
const alert: AuditEvent = {
  ...ticket,
  object: { ...ticket.object, type: 'alert' },
  action: { kind: 'operation', name: 'alert.raised' },
}
const accessRecord: AuditEvent = {
  ...ticket,
  object: { ...ticket.object, type: 'audit_query' },
  action: { kind: 'read', name: 'audit_query.read' },
}
const checkpointClaim: AuditEvent = {
  ...ticket,
  action: { kind: 'operation', name: 'audit_checkpoint.signed' },
}

const record = (topic: string, headers: KafkaRecord['headers'] = {}): KafkaRecord => ({
  topic,
  partition: 0,
  offset: '7',
  key: null,
  value: Buffer.from('x'),
  headers,
  timestamp: '0',
})

const namespaces = new Map<string, ReservedNamespace>([
  ['audit.alerts', 'alert'],
  ['audit.access', 'access-record'],
])
const decodeOn = (topic: string, event: AuditEvent) =>
  decodeRow(record(topic), () => Promise.resolve(event), namespaces.get(topic))

describe('decodeRow: each topic holds its own namespace only', () => {
  it.each([
    ['audit.normalized', ticket],
    ['audit.alerts', alert],
    ['audit.access', accessRecord],
  ])('stores what %s is for', async (topic, event) => {
    await expect(decodeOn(topic, event)).resolves.toMatchObject({ eventId: event.event_id })
  })

  it.each([
    ['an alert on the normalized topic', 'audit.normalized', alert, /claims the alert namespace/],
    [
      'an access record on the normalized topic',
      'audit.normalized',
      accessRecord,
      /claims the access-record namespace/,
    ],
    [
      'an integrity record on the normalized topic',
      'audit.normalized',
      checkpointClaim,
      /claims the integrity namespace/,
    ],
    ['an ordinary event on the alerts topic', 'audit.alerts', ticket, /holds only alert events.* is none/],
    ['an access record on the alerts topic', 'audit.alerts', accessRecord, /is an access-record event/],
    ['an alert on the access topic', 'audit.access', alert, /holds only access-record events/],
    ['an integrity record on the alerts topic', 'audit.alerts', checkpointClaim, /is an integrity event/],
  ])('refuses %s as RESERVED_NAMESPACE', async (_what, topic, event, message) => {
    const refused = decodeOn(topic, event)
    await expect(refused).rejects.toBeInstanceOf(RecordRefusedError)
    await expect(refused).rejects.toMatchObject({ code: 'RESERVED_NAMESPACE', retriable: false })
    await expect(refused).rejects.toThrow(message)
  })
})

describe('decodeRow: where the row goes', () => {
  it('sends an event marked temporal level 1 to the latest-state table, any other to the trail', async () => {
    const decode = (headers: KafkaRecord['headers']) =>
      decodeRow(record('audit.normalized', headers), () => Promise.resolve(ticket), undefined)
    await expect(decode({ [temporalLevelHeader]: Buffer.from('1') })).resolves.toMatchObject({
      eventId: ticket.event_id,
      target: 'latest',
    })
    await expect(decode({})).resolves.toMatchObject({ target: 'trail' })
  })

  it('still refuses a marked event in the wrong namespace', async () => {
    const refused = decodeRow(
      record('audit.normalized', { [temporalLevelHeader]: Buffer.from('1') }),
      () => Promise.resolve(alert),
      undefined,
    )
    await expect(refused).rejects.toMatchObject({ code: 'RESERVED_NAMESPACE' })
  })
})
