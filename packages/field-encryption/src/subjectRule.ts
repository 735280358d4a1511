import type { AuditEvent } from '@audit-pipeline/event-model'

/**
 * Whose data an event's sensitive values are, which decides the data key they are sealed under
 * and so what one erasure destroys:
 * - `actor`: the person acting (`actor.id`);
 * - `record`: the record changed (`<object.type>/<object.id>`);
 * - `attribute:<name>`: the value of the event's attribute `<name>` (a customer id, say); an
 *   event without it falls back to its record, so nothing is sealed under a shared key.
 */
export type SubjectRule =
  | { readonly kind: 'actor' }
  | { readonly kind: 'record' }
  | { readonly kind: 'attribute'; readonly name: string }

export const subjectRuleForms = 'actor, record or attribute:<name>'

/** Parses `actor`, `record` or `attribute:<name>`; throws an Error naming the forms otherwise. */
export function parseSubjectRule(text: string): SubjectRule {
  if (text === 'actor' || text === 'record') return { kind: text }
  if (text.startsWith('attribute:') && text.length > 'attribute:'.length) {
    return { kind: 'attribute', name: text.slice('attribute:'.length) }
  }
  throw new Error(`'${text}' is not a data subject; expected ${subjectRuleForms}`)
}

/** The data subject of `event` under `rule`. */
export function subjectOf(
  event: Pick<AuditEvent, 'actor' | 'object' | 'attributes'>,
  rule: SubjectRule,
): string {
  if (rule.kind === 'actor') return event.actor.id
  if (rule.kind === 'attribute') {
    const value = Object.hasOwn(event.attributes, rule.name) ? event.attributes[rule.name] : undefined
    if (value !== undefined && value !== '') return value
  }
  return `${event.object.type}/${event.object.id}`
}
