import type { Actor, AuditEvent, FieldChange } from '@audit-pipeline/event-model'
import { jsonText, jsonTextInner, wellFormed } from './canonicalJson.js'

/**
 * The canonical form of an audit event: the object whose RFC 8785 text is hashed into its content
 * digest. It is the event as stored (Avro on Kafka, a row in ClickHouse), field for field but
 * `recorded_at`, tagged with its form so a later form can never hash to the same bytes.
 * `recorded_at` is when the pipeline received the event, not what the event says: when the
 * producer leaves it out, the normalizer takes the message's Kafka timestamp, so a producer's
 * resend of the same event would otherwise hash differently and read as a rewrite. Every string is made
 * well-formed first (a lone surrogate becomes U+FFFD), because that is what it reads back as
 * after UTF-8 storage; absent nullable fields are null, as Avro's unions default them.
 */
export const eventForm = 'audit-event/1'

/** The canonical object of `event`: only the fields of AuditEvent, whatever else it carries. */
export function canonicalEvent(event: AuditEvent): Record<string, unknown> {
  return {
    form: eventForm,
    event_id: wellFormed(event.event_id),
    occurred_at: epochMs(event.occurred_at, 'occurred_at'),
    tenant: wellFormed(event.tenant),
    source: {
      service: wellFormed(event.source.service),
      instance: nullable(event.source.instance),
      version: nullable(event.source.version),
    },
    actor: canonicalActor(event.actor),
    on_behalf_of: event.on_behalf_of == null ? null : canonicalActor(event.on_behalf_of),
    action: { kind: wellFormed(event.action.kind), name: wellFormed(event.action.name) },
    category: wellFormed(event.category),
    object: {
      type: wellFormed(event.object.type),
      id: wellFormed(event.object.id),
      id2: nullable(event.object.id2),
      id3: nullable(event.object.id3),
      label: nullable(event.object.label),
    },
    changes: event.changes.map((change) => ({
      path: wellFormed(change.path),
      old_value: nullable(change.old_value),
      new_value: nullable(change.new_value),
      value_type: wellFormed(change.value_type),
    })),
    before: nullable(event.before),
    after: nullable(event.after),
    outcome: { status: wellFormed(event.outcome.status), reason: nullable(event.outcome.reason) },
    severity: wellFormed(event.severity),
    correlation: {
      trace_id: nullable(event.correlation.trace_id),
      request_id: nullable(event.correlation.request_id),
    },
    attributes: wellFormedAttributes(event.attributes),
    sensitive_fields: event.sensitive_fields.map(wellFormed),
  }
}

function canonicalActor(actor: Actor): Record<string, unknown> {
  return {
    type: wellFormed(actor.type),
    id: wellFormed(actor.id),
    display_name: nullable(actor.display_name),
    roles: actor.roles.map(wellFormed),
    ip: nullable(actor.ip),
    user_agent: nullable(actor.user_agent),
    session_id: nullable(actor.session_id),
  }
}

/**
 * The RFC 8785 text of `canonicalEvent(event)`, written directly: the field names are fixed, so
 * their sorted order is written out below and only the attribute keys are sorted at run time.
 * Byte-identical to `canonicalJson(canonicalEvent(event))` for any AuditEvent (a property test
 * holds it to that) and several times faster, which is what lets a verifier recompute 200,000
 * digests a second. Strings are written as JSON.stringify writes them, which is RFC 8785's string
 * form, and safe integers by String(), its number form.
 */
export function canonicalEventJson(event: AuditEvent): string {
  const { source, actor, action, object, outcome, correlation } = event
  // Non-null strings are written between quotes of the template (`inner`): one concatenation
  // fewer each, which is most of what this costs.
  return (
    `{"action":{"kind":"${inner(action.kind)}","name":"${inner(action.name)}"}` +
    `,"actor":${actorJson(actor)}` +
    `,"after":${nullableText(event.after)}` +
    `,"attributes":${attributesJson(event.attributes)}` +
    `,"before":${nullableText(event.before)}` +
    `,"category":"${inner(event.category)}"` +
    `,"changes":${changesJson(event.changes)}` +
    `,"correlation":{"request_id":${nullableText(correlation.request_id)},"trace_id":${nullableText(correlation.trace_id)}}` +
    `,"event_id":"${inner(event.event_id)}"` +
    `,"form":"${eventForm}"` +
    `,"object":{"id":"${inner(object.id)}","id2":${nullableText(object.id2)},"id3":${nullableText(object.id3)},"label":${nullableText(object.label)},"type":"${inner(object.type)}"}` +
    `,"occurred_at":${String(epochMs(event.occurred_at, 'occurred_at'))}` +
    `,"on_behalf_of":${event.on_behalf_of == null ? 'null' : actorJson(event.on_behalf_of)}` +
    `,"outcome":{"reason":${nullableText(outcome.reason)},"status":"${inner(outcome.status)}"}` +
    `,"sensitive_fields":${textArray(event.sensitive_fields)}` +
    `,"severity":"${inner(event.severity)}"` +
    `,"source":{"instance":${nullableText(source.instance)},"service":"${inner(source.service)}","version":${nullableText(source.version)}}` +
    `,"tenant":"${inner(event.tenant)}"}`
  )
}

function actorJson(actor: Actor): string {
  return (
    `{"display_name":${nullableText(actor.display_name)},"id":"${inner(actor.id)}","ip":${nullableText(actor.ip)}` +
    `,"roles":${textArray(actor.roles)},"session_id":${nullableText(actor.session_id)}` +
    `,"type":"${inner(actor.type)}","user_agent":${nullableText(actor.user_agent)}}`
  )
}

function changesJson(changes: readonly FieldChange[]): string {
  let json = '['
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i] as FieldChange
    if (i > 0) json += ','
    json +=
      `{"new_value":${nullableText(change.new_value)},"old_value":${nullableText(change.old_value)}` +
      `,"path":"${inner(change.path)}","value_type":"${inner(change.value_type)}"}`
  }
  return json + ']'
}

function attributesJson(attributes: Record<string, string>): string {
  let record = attributes
  let keys = Object.keys(record)
  if (!keys.every((key) => key.isWellFormed())) {
    // Two keys can become one once well-formed: share canonicalEvent's rule for which value stays.
    record = wellFormedAttributes(attributes)
    keys = Object.keys(record)
  }
  // The default sort compares UTF-16 code units, which is RFC 8785's key order.
  keys.sort()
  let json = '{'
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    if (i > 0) json += ','
    json += `"${inner(key)}":"${inner(record[key] as string)}"`
  }
  return json + '}'
}

function textArray(values: readonly string[]): string {
  let json = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) json += ','
    json += `"${inner(values[i] as string)}"`
  }
  return json + ']'
}

const text = jsonText

function nullableText(value: string | null | undefined): string {
  return value == null ? 'null' : text(value)
}

/** A string's RFC 8785 form without its quotes (jsonTextInner). */
const inner = jsonTextInner

function nullable(value: string | null | undefined): string | null {
  return value == null ? null : wellFormed(value)
}

/**
 * Attributes with well-formed keys and values. Object.fromEntries defines own properties, so a
 * key such as "__proto__" stays an ordinary key; when two keys become the same, the later wins.
 */
function wellFormedAttributes(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => [wellFormed(key), wellFormed(value)]),
  )
}

/** Timestamps are integer epoch milliseconds; anything else has no canonical form. */
function epochMs(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new TypeError(`${field} must be an integer number of epoch milliseconds, got ${String(value)}`)
  }
  return value
}
