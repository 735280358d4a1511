import type { AuditEvent } from '@audit-pipeline/event-model'
import { contentDigest } from '@audit-pipeline/integrity'
import type { Destination } from '../destinations/destination.js'
import { FilterEvaluationError } from '../filter/eventFilter.js'
import { projectEvent, sendsContentDigest } from '../projection/projectEvent.js'

/** What one event becomes for one destination. */
export type PreparedEvent =
  | { kind: 'send'; eventId: string; entry: string; bytes: number }
  | { kind: 'skip' }
  | { kind: 'deadLetter'; errorClass: 'FILTER_FAILED'; message: string }

/**
 * Filters, projects and formats one event for a destination. A filter that cannot decide (it
 * reads a key the event lacks, say) sends the event to the destination's dead-letter topic
 * rather than dropping it unseen; fixing the filter and replaying brings it back. The event's
 * content digest is computed here, once per event this destination wants, over the whole event
 * as decoded: the destination's redaction and projection come after it, so the digest equals the
 * one the trail stores.
 */
export function prepareEvent(
  event: AuditEvent,
  destination: Pick<Destination, 'filter' | 'projection' | 'format'>,
): PreparedEvent {
  let wanted: boolean
  try {
    wanted = destination.filter(event)
  } catch (error) {
    if (!(error instanceof FilterEvaluationError)) throw error
    return { kind: 'deadLetter', errorClass: 'FILTER_FAILED', message: `filter: ${error.message}` }
  }
  if (!wanted) return { kind: 'skip' }
  const { projection } = destination
  const digest = sendsContentDigest(projection) ? contentDigest(event) : undefined
  const entry = destination.format.entry(event, projectEvent(event, projection, digest))
  return { kind: 'send', eventId: event.event_id, entry, bytes: Buffer.byteLength(entry) }
}
