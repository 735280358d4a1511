import { analystHideableFields, type AnalystHideableField } from '@audit-pipeline/event-model'

/**
 * Which of what analysts may be refused (event-model's analystHideableFields: IP address,
 * session id, user agent, attributes) expressions read: what an alert's group key and figures,
 * made by them, may show. By the field's name anywhere in the text, as a word (`event.actor.ip`,
 * `event.on_behalf_of["session_id"]`, `event.attributes.channel`): a name in a string literal
 * counts too, which only ever hides more.
 */
export function revealedFields(texts: readonly (string | undefined)[]): AnalystHideableField[] {
  const text = texts.filter((part) => part !== undefined).join('\n')
  return analystHideableFields.filter((field) => new RegExp(`\\b${field}\\b`).test(text))
}
