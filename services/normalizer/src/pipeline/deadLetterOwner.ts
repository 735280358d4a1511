import type { DeadLetterOwner } from '@audit-pipeline/dead-letter'
import type { SubjectRule } from '@audit-pipeline/field-encryption'
import { adaptMessage } from '../adapters/adaptMessage.js'
import type { InputAdapter } from '../adapters/inputAdapter.js'
import type { InputMessage } from '../adapters/inputMessage.js'
import { isJsonObject, type JsonObject } from '../adapters/jsonObject.js'
import { tenantRedactionOf, type RedactionPolicy } from '../redaction/redactionPolicy.js'

/**
 * Whose data a refused non-Avro message holds: the owners of the events its input adapter makes
 * of it, when it makes any (the message was refused later: by the event policy, normalization,
 * redaction, routing), so a Debezium change event is attributed by the adapter's tenant and the
 * row's ids and actor, exactly as its events are; else what can be read of its JSON
 * (ownersOfJsonMessage).
 */
export function ownersOfMessage(
  message: InputMessage & { value: Buffer },
  adapters: readonly InputAdapter[],
  redaction: RedactionPolicy,
): DeadLetterOwner[] | undefined {
  const adapted = adaptMessage(message, adapters)
  if (adapted.status === 'events') {
    const owners = distinctOwners(adapted.drafts.map((draft) => ownerOfRecord(draft, redaction)))
    if (owners.length > 0) return owners
  }
  return ownersOfJsonMessage(message.value, redaction)
}

/** The owners found, each once, in the order first found. */
function distinctOwners(found: readonly (DeadLetterOwner | undefined)[]): DeadLetterOwner[] {
  const owners = new Map<string, DeadLetterOwner>()
  for (const owner of found) {
    if (owner !== undefined) owners.set(`${owner.tenant}\u0000${owner.subject}`, owner)
  }
  return [...owners.values()]
}

/**
 * Whose data a refused JSON message holds, when its tenant's redaction policy encrypts: the
 * tenant and the data subject under the tenant's subject rule, read leniently from whatever of
 * the message is there (the message was refused, so nothing else about it may hold). The record
 * is the message itself (the JSON form, or a binary-mode CloudEvent's data), a structured
 * CloudEvent's `data` (or `data_base64`), or each event of a batch: a batch has the owners of all
 * its events, and its dead letter is sealed so that erasing any one of them makes it unreadable
 * (packages/dead-letter's sealDeadLetter). An event of the batch that cannot be attributed does
 * not unseal the rest.
 *
 * Undefined when the message cannot be attributed: not JSON, no tenant, a tenant that does not
 * encrypt, no subject (an `actor` rule without `actor.id`; a `record` rule, or an `attribute`
 * rule falling back to it, without `object.type` and `object.id`). Its dead letter then holds
 * the message as it came, as before sealing existed.
 *
 * JSON.parse is safe on any nesting here (V8's parser does not recurse, so a message refused as
 * too deep is attributed too), and nothing below walks the result: it reads a few members at the
 * top of the record.
 */
export function ownersOfJsonMessage(
  value: Buffer,
  redaction: RedactionPolicy,
): DeadLetterOwner[] | undefined {
  let body: unknown
  try {
    body = JSON.parse(value.toString('utf8'))
  } catch {
    return undefined
  }
  const records = Array.isArray(body) ? body : [body]
  const owners = distinctOwners(records.map((item) => ownerOfRecord(recordIn(item), redaction)))
  return owners.length === 0 ? undefined : owners
}

/**
 * The owner of one audit record (a parsed JSON-form record, or an Avro message's decoded event)
 * as normalization would see it: ids trimmed, as normalizeEvent trims them, so the dead letter is
 * sealed under the key the subject's events are sealed under, and one erasure reaches both.
 */
export function ownerOfRecord(record: unknown, redaction: RedactionPolicy): DeadLetterOwner | undefined {
  if (!isJsonObject(record)) return undefined
  const tenant = idOf(memberOf(record, 'tenant'))
  if (tenant === undefined) return undefined
  const { method } = tenantRedactionOf(redaction, tenant)
  if (method.mode !== 'encrypt') return undefined
  const subject = subjectOfRecord(record, method.subject)
  return subject === undefined ? undefined : { tenant, subject }
}

/** field-encryption's subjectOf, for a record whose fields may be missing or of any type. */
function subjectOfRecord(record: JsonObject, rule: SubjectRule): string | undefined {
  if (rule.kind === 'actor') return idOf(memberOf(memberOf(record, 'actor'), 'id'))
  if (rule.kind === 'attribute') {
    // As subjectOf reads it: the attribute's value as it is, the record when it is missing or empty.
    const value = memberOf(memberOf(record, 'attributes'), rule.name)
    if (typeof value === 'string' && value !== '') return value
  }
  const object = memberOf(record, 'object')
  const type = idOf(memberOf(object, 'type'))
  const id = idOf(memberOf(object, 'id'))
  return type === undefined || id === undefined ? undefined : `${type}/${id}`
}

/** The audit record a JSON body carries: a structured CloudEvent's data, or the body itself. */
function recordIn(body: unknown): unknown {
  if (!isJsonObject(body) || !Object.hasOwn(body, 'specversion')) return body
  const data = memberOf(body, 'data')
  if (data !== undefined) return data
  const base64 = memberOf(body, 'data_base64')
  if (typeof base64 !== 'string') return undefined
  try {
    return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as unknown
  } catch {
    return undefined
  }
}

/** An object's own member (never one inherited: `constructor` is not an attribute), or undefined. */
function memberOf(value: unknown, name: string): unknown {
  return isJsonObject(value) && Object.hasOwn(value, name) ? value[name] : undefined
}

/** An id as normalization keeps it: trimmed, with something left. */
function idOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}
