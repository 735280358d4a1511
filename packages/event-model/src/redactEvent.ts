import type { AuditEvent } from './auditEvent.js'
import { parsePathPatterns } from './jsonValuePathPatterns.js'
import { redactChangeList } from './redactChanges.js'
import { replacementFor, type RedactionMethod } from './redactMethod.js'
import { redactSnapshotText } from './redactSnapshot.js'

/** The parts of an event that carry field values, and the list saying which are sensitive. */
export type RedactableEvent = Pick<AuditEvent, 'changes' | 'before' | 'after' | 'sensitive_fields'>

/**
 * The event with the values at its `sensitive_fields` hashed or dropped (redactMethod.ts) in
 * `changes`, `before` and `after`: what a producer does before sending. Everything else is
 * returned as it is. Values already replaced stay as they are, so applying it again (with either
 * method) changes nothing.
 */
export function redactEvent<E extends RedactableEvent>(event: E, method: RedactionMethod): E {
  const replace = replacementFor(method) // first, so a bad key fails even on events with nothing sensitive
  if (event.sensitive_fields.length === 0) return event
  const patterns = parsePathPatterns(event.sensitive_fields)
  const snapshot = (text: string | null, where: 'before' | 'after') =>
    text === null ? null : redactSnapshotText(text, patterns, replace, where)
  return {
    ...event,
    changes: redactChangeList(event.changes, patterns, replace),
    before: snapshot(event.before, 'before'),
    after: snapshot(event.after, 'after'),
  }
}
