import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'

/**
 * What the sink needs of an event to keep the trail append-only and chained: who it belongs to,
 * its id, what it says (the content digest, packages/integrity), and the two fields its entry
 * records so that verify can tell an event removed by retention from one deleted.
 */
export type EventIdentity = {
  readonly tenant: string
  readonly eventId: string
  readonly digest: string
  readonly occurredAtMs: number
  readonly category: string
}

/** An event's identity within the trail: (tenant, event_id). Event ids are UUIDs, so the NUL is unambiguous. */
export type EventKey = string

export function eventKeyOf(identity: Pick<EventIdentity, 'tenant' | 'eventId'>): EventKey {
  return `${identity.tenant}\u0000${identity.eventId.toLowerCase()}`
}

export function identityOf(event: AuditEvent): EventIdentity {
  // The id as the UUID column stores it (lower case; the normalizer writes it so already): the
  // digest verify recomputes from the stored row.
  const eventId = event.event_id.toLowerCase()
  return {
    tenant: event.tenant,
    eventId,
    digest: contentDigest(eventId === event.event_id ? event : { ...event, event_id: eventId }),
    occurredAtMs: event.occurred_at,
    category: event.category,
  }
}
