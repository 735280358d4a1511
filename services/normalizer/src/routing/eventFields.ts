import {
  actionKinds,
  actorTypes,
  outcomeStatuses,
  severities,
  type Actor,
  type AuditEvent,
} from '@audit-pipeline/event-model'

/**
 * The event fields a route can match on, by the path written in the config (`action.name`,
 * `attributes.channel`). Each has a reader written out by hand, so routing an event walks no
 * path and allocates nothing. Only text fields and lists of text are matchable: timestamps,
 * `changes` and the `before`/`after` snapshots are not routing material.
 */
export type EventField =
  | {
      readonly kind: 'text'
      /** `null` or `undefined`: the event has no value here, and no condition on it holds. */
      readonly read: (event: AuditEvent) => string | null | undefined
      /** Set on every valid event (a `*` condition on it matches everything). */
      readonly alwaysPresent: boolean
      /** The field is a closed enum: conditions are checked against these values at parse time. */
      readonly allowed?: readonly string[]
    }
  | {
      readonly kind: 'list'
      /** A condition holds when any item fits it. */
      readonly read: (event: AuditEvent) => readonly string[] | null | undefined
    }

const text = (
  read: (event: AuditEvent) => string | null | undefined,
  options: { alwaysPresent?: boolean; allowed?: readonly string[] } = {},
): EventField => ({
  kind: 'text',
  read,
  alwaysPresent: options.alwaysPresent ?? false,
  ...(options.allowed && { allowed: options.allowed }),
})

const list = (read: (event: AuditEvent) => readonly string[] | null | undefined): EventField => ({
  kind: 'list',
  read,
})

const actorFields = (prefix: string, actorOf: (event: AuditEvent) => Actor | null, present: boolean) => ({
  [`${prefix}.type`]: text((e) => actorOf(e)?.type, { alwaysPresent: present, allowed: actorTypes }),
  [`${prefix}.id`]: text((e) => actorOf(e)?.id, { alwaysPresent: present }),
  [`${prefix}.display_name`]: text((e) => actorOf(e)?.display_name),
  [`${prefix}.roles`]: list((e) => actorOf(e)?.roles),
  [`${prefix}.ip`]: text((e) => actorOf(e)?.ip),
  [`${prefix}.user_agent`]: text((e) => actorOf(e)?.user_agent),
  [`${prefix}.session_id`]: text((e) => actorOf(e)?.session_id),
})

const namedFields: ReadonlyMap<string, EventField> = new Map(
  Object.entries({
    category: text((e) => e.category, { alwaysPresent: true }),
    tenant: text((e) => e.tenant, { alwaysPresent: true }),
    severity: text((e) => e.severity, { alwaysPresent: true, allowed: severities }),
    'action.kind': text((e) => e.action.kind, { alwaysPresent: true, allowed: actionKinds }),
    'action.name': text((e) => e.action.name, { alwaysPresent: true }),
    'object.type': text((e) => e.object.type, { alwaysPresent: true }),
    'object.id': text((e) => e.object.id, { alwaysPresent: true }),
    'object.id2': text((e) => e.object.id2),
    'object.id3': text((e) => e.object.id3),
    'object.label': text((e) => e.object.label),
    'source.service': text((e) => e.source.service, { alwaysPresent: true }),
    'source.instance': text((e) => e.source.instance),
    'source.version': text((e) => e.source.version),
    ...actorFields('actor', (e) => e.actor, true),
    ...actorFields('on_behalf_of', (e) => e.on_behalf_of, false),
    'outcome.status': text((e) => e.outcome.status, { alwaysPresent: true, allowed: outcomeStatuses }),
    'outcome.reason': text((e) => e.outcome.reason),
    'correlation.trace_id': text((e) => e.correlation.trace_id),
    'correlation.request_id': text((e) => e.correlation.request_id),
    event_id: text((e) => e.event_id, { alwaysPresent: true }),
    sensitive_fields: list((e) => e.sensitive_fields),
  }),
)

const attributesPrefix = 'attributes.'

/** Every path `eventField` knows, for error messages. */
export const matchableFieldNames: readonly string[] = [...namedFields.keys(), 'attributes.<key>']

/**
 * The field a config path names, or undefined. `attributes` is a flat map, so everything after
 * `attributes.` is the key (`attributes.http.method` reads the key `http.method`); the path
 * grammar's quoted form `attributes["e.mail"]` is read too.
 */
export function eventField(path: string): { key: string; field: EventField } | undefined {
  const named = namedFields.get(path)
  if (named) return { key: path, field: named }
  const attribute = attributeKey(path)
  if (attribute === undefined) return undefined
  return {
    key: attributesPrefix + attribute,
    // Own keys only: `attributes.constructor` must not read Object.prototype.
    field: text((e) => (Object.hasOwn(e.attributes, attribute) ? e.attributes[attribute] : undefined)),
  }
}

function attributeKey(path: string): string | undefined {
  const quoted = /^attributes\[("(?:[^"\\]|\\.)*")\]$/.exec(path)?.[1]
  if (quoted !== undefined) {
    try {
      return JSON.parse(quoted) as string
    } catch {
      return undefined
    }
  }
  if (path.startsWith(attributesPrefix) && path.length > attributesPrefix.length) {
    return path.slice(attributesPrefix.length)
  }
  return undefined
}
