import { createHash } from 'node:crypto'

/**
 * The id of a batch, sent as `webhook-id`: derived from the event ids it carries, so the same
 * batch retried (or re-read after a crash, batched the same way) has the same id, and a receiver
 * that deduplicates by it drops the repeat. Receivers that batch differently still have each
 * event's `event_id`.
 */
export function batchIdFor(eventIds: readonly string[]): string {
  return `msg_${createHash('sha256').update(eventIds.join('\n')).digest('hex').slice(0, 32)}`
}
