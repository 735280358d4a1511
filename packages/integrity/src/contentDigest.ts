import { hash } from 'node:crypto'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { canonicalEventJson } from './canonicalForm.js'

/**
 * The event's content digest: lowercase hex SHA-256 of the UTF-8 bytes of its canonical form.
 * Its strings are well-formed, so the UTF-8 encoding is exact and another language computes the
 * same bytes.
 */
export function contentDigest(event: AuditEvent): string {
  // The one-shot hash (a string is hashed as its UTF-8) saves a Hash object per event.
  return hash('sha256', canonicalEventJson(event), 'hex')
}
