import { readFileSync } from 'node:fs'
import { applyChanges, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { describe, expect, it } from 'vitest'
import { normalizeEvent } from '../normalize/normalizeEvent.js'
import { adaptMessage } from './adaptMessage.js'
import { auditJsonAdapter } from './auditJsonAdapter.js'
import { cloudEventsAdapter } from './cloudEventsAdapter.js'
import { createDebeziumAdapter } from './debeziumAdapter.js'
import type { InputMessage } from './inputMessage.js'

/**
 * Ticket 9548-B1 end to end through the pure steps: bytes and headers as the consumer gets them,
 * the adapter the message declares or has the shape of, then normalizeEvent.
 */
const adapters = [
  cloudEventsAdapter,
  createDebeziumAdapter({
    tenant: 'witify',
    tables: { 'public.tickets': { objectType: 'ticket', actorColumn: 'updated_by', labelColumn: 'title' } },
  }),
  auditJsonAdapter,
]
const now = Date.parse('2024-03-20T08:30:01Z')

function message(name: string, headers: InputMessage['headers'] = {}): InputMessage {
  return { value: readFileSync(new URL(`fixtures/${name}`, import.meta.url)), headers }
}

function normalized(input: InputMessage): AuditEvent[] {
  const adapted = adaptMessage(input, adapters)
  if (adapted.status !== 'events') throw new Error(`expected events, got ${adapted.status}`)
  return adapted.drafts.map((draft) => {
    const result = normalizeEvent(draft, { now })
    if (!result.ok) throw result.error
    return result.event
  })
}

describe('ticket 9548-B1 through the adapters and normalization', () => {
  it('tells who changed the priority, when, from what to what, from the database log', () => {
    const history = [
      'debezium-ticket-create.json',
      'debezium-ticket-update-priority.json',
      'debezium-ticket-update-solution.json',
      'debezium-ticket-delete.json',
    ].flatMap((name) => normalized(message(name, { 'audit-input-format': 'debezium' })))

    const priority = history.flatMap((event) =>
      event.changes
        .filter((change) => change.path === 'priority')
        .map((change) => [
          new Date(event.occurred_at).toISOString(),
          event.actor.id,
          event.action.kind,
          change.old_value,
          change.new_value,
        ]),
    )
    expect(priority).toEqual([
      ['2024-03-14T09:45:00.000Z', 'u-1001', 'create', null, '"Normal"'],
      ['2024-03-15T11:17:00.000Z', 'u-1002', 'update', '"Normal"', '"Urgent"'],
      ['2024-03-16T13:12:00.000Z', 'u-1003', 'update', '"Urgent"', '"Normal"'],
      ['2024-03-20T08:30:00.000Z', 'helpdesk-db', 'delete', '"Normal"', null],
    ])
    for (const event of history) {
      expect([event.tenant, event.object.type, event.object.id, event.category, event.recorded_at]).toEqual([
        'witify',
        'ticket',
        '9548-B1',
        'business',
        now,
      ])
      // Each event's changes turn its before image into its after image.
      expect(
        applyChanges(event.before === null ? undefined : JSON.parse(event.before), event.changes),
      ).toEqual(event.after === null ? {} : JSON.parse(event.after))
    }
  })

  it('skips the tombstone Debezium writes after the delete', () => {
    expect(adaptMessage({ value: null, headers: {} }, adapters)).toMatchObject({
      status: 'skipped',
      reason: 'TOMBSTONE',
    })
  })

  it('gives the same canonical 16 March update from the JSON form and from a CloudEvent carrying it', () => {
    const line = ticketExampleLines()[2]!
    const [fromJson] = normalized({ value: Buffer.from(line), headers: {} })
    const [fromCloudEvent] = normalized(
      message('cloudevents-ticket-priority-lowered.json', { 'content-type': 'application/cloudevents+json' }),
    )
    const comparable = ({ changes, action, actor, object, tenant, category, occurred_at }: AuditEvent) => ({
      changes,
      action,
      actor,
      object,
      tenant,
      category,
      occurred_at,
    })
    expect(comparable(fromCloudEvent!)).toEqual(comparable(fromJson!))
  })
})
