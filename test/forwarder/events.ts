import { randomUUID } from 'node:crypto'
import { parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { ticketExampleLines } from '@audit-pipeline/schemas'

/** The sensitive value the examples carry: it must never reach a destination not allowed it. */
export const sensitiveValue = 'Use the print dialog'

/**
 * `count` events with fresh ids over `objects` tickets, every other one a security event. Each
 * carries `attributes.seq` (its position) so receivers can check order per object, and a
 * sensitive `solution` in its changes and snapshot.
 */
export function forwardedEvents(count: number, objects = 7): AuditEvent[] {
  const template = parseEventJson(JSON.parse(ticketExampleLines()[2]!))
  return Array.from({ length: count }, (_, i) => ({
    ...template,
    event_id: randomUUID(),
    recorded_at: template.occurred_at + i,
    category: i % 2 === 0 ? 'security' : 'business',
    object: { ...template.object, id: `T-${i % objects}` },
    attributes: { seq: String(i) },
    sensitive_fields: ['solution'],
  }))
}

/** Checks that, per object, events arrived in the order they were sent (by `attributes.seq`); returns the first out of order. */
export function firstOutOfOrder(
  events: readonly { object?: { id?: string }; attributes?: { seq?: string } }[],
): string | undefined {
  const last = new Map<string, number>()
  for (const event of events) {
    const object = event.object?.id ?? ''
    const seq = Number(event.attributes?.seq)
    if ((last.get(object) ?? -1) > seq) return `${object}: ${seq} after ${last.get(object)}`
    last.set(object, seq)
  }
  return undefined
}
