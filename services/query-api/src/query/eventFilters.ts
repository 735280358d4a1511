import type { AccessScope } from '../access/accessScope.js'
import type { PageCursor } from './cursor.js'
import { eventsView } from './eventColumns.js'
import { dateTime64Param } from './time.js'

/** What a caller may filter events on. Each value becomes a query parameter, never SQL text. */
export type EventFilters = {
  tenant?: string
  actor?: string
  actorType?: string
  action?: string
  actionKind?: string
  category?: string
  objectType?: string
  objectId?: string
  objectId2?: string
  objectId3?: string
  /** The actor's session id. */
  sessionId?: string
  /** The actor's IP address, as stored. */
  ip?: string
  requestId?: string
  traceId?: string
  sourceService?: string
  /** A field the event changed (a change's path, as stored). */
  changed?: string
  /** …from this value (with `changed`): text, or JSON such as 3 or true. */
  changedFrom?: string
  /** …to this value (with `changed`). */
  changedTo?: string
  /**
   * For an auditor: the blind indexes of `changedFrom` / `changedTo` as sealed values carry them
   * (`<tenant>:<16 hex>`, one per tenant and stored form; query/sealedValueSearch.ts), so the
   * search finds sealed values too. Computed by the API, never taken from the caller.
   */
  changedFromSealed?: readonly string[]
  changedToSealed?: readonly string[]
  outcome?: string
  severity?: string
  /** Only events of records created (their first `create` event) at or after this… */
  createdSince?: Date
  /** …and before this. */
  createdUntil?: Date
  /** Only events of records last updated (their newest `update` event) at or after this… */
  updatedSince?: Date
  /** …and before this. */
  updatedUntil?: Date
  /** occurred_at ≥ since */
  since?: Date
  /** occurred_at < until */
  until?: Date
}

/** A WHERE clause's conditions and the parameters they name. */
export type Conditions = { conditions: string[]; params: Record<string, unknown> }

/** Filter → column, parameter name and type: the only identifiers a filter puts in SQL. */
const equalityFilters = [
  ['tenant', 'tenant', 'String'],
  ['actor', 'actor_id', 'String'],
  ['actorType', 'actor_type', 'String'],
  ['action', 'action_name', 'String'],
  ['actionKind', 'action_kind', 'String'],
  ['category', 'category', 'String'],
  ['objectType', 'object_type', 'String'],
  ['objectId', 'object_id', 'String'],
  ['objectId2', 'object_id2', 'String'],
  ['objectId3', 'object_id3', 'String'],
  ['sessionId', 'actor_session_id', 'String'],
  ['ip', 'actor_ip', 'String'],
  ['requestId', 'correlation_request_id', 'String'],
  ['traceId', 'correlation_trace_id', 'String'],
  ['sourceService', 'source_service', 'String'],
  ['outcome', 'outcome_status', 'String'],
  ['severity', 'severity', 'String'],
] as const satisfies readonly (readonly [keyof EventFilters, string, string])[]

/**
 * The conditions every events query starts with: the key's tenants first (enforced here, whatever
 * the caller asked), then each filter given, each value a `{name:Type}` parameter.
 */
export function eventConditions(filters: EventFilters, scope: AccessScope): Conditions {
  const conditions: string[] = []
  const params: Record<string, unknown> = {}
  if (scope.tenants !== 'all') {
    conditions.push('tenant IN {scope_tenants:Array(String)}')
    params['scope_tenants'] = [...scope.tenants]
  }
  for (const [filter, column, type] of equalityFilters) {
    const value = filters[filter]
    if (value === undefined) continue
    conditions.push(`${column} = {f_${column}:${type}}`)
    params[`f_${column}`] = value
  }
  if (filters.changed !== undefined) {
    const value = (
      column: 'old_value' | 'new_value',
      param: string,
      text: string | undefined,
      sealed: readonly string[] | undefined,
    ) => {
      if (text === undefined) return ''
      params[param] = storedValueCandidates(text)
      const stored = `c.${column} IN {${param}:Array(String)}`
      // Only an auditor's search looks into sealed values: an analyst may not read them.
      if (sealed === undefined || sealed.length === 0 || scope.role !== 'auditor') return ` AND ${stored}`
      params[`${param}_sealed`] = [...sealed]
      return ` AND (${stored} OR has({${param}_sealed:Array(String)}, ${sealedBlindIndexOf(`c.${column}`)}))`
    }
    const values =
      value('old_value', 'f_changed_from', filters.changedFrom, filters.changedFromSealed) +
      value('new_value', 'f_changed_to', filters.changedTo, filters.changedToSealed)
    conditions.push(`arrayExists(c -> c.path = {f_changed:String}${values}, changes)`)
    params['f_changed'] = filters.changed
    // An analyst does not see values at the paths an event marks sensitive, so a search by value
    // must not find them either: it skips every event that marks any (the paths' patterns are the
    // event model's to match; leaving such events out can never reveal one).
    if (values !== '' && scope.role !== 'auditor') conditions.push('empty(sensitive_fields)')
  }
  const records = recordTimeConditions(filters, scope)
  if (records !== undefined) {
    conditions.push(records.conditions.join(' AND '))
    Object.assign(params, records.params)
  }
  if (filters.since) {
    conditions.push(`occurred_at >= {f_since:DateTime64(3, 'UTC')}`)
    params['f_since'] = dateTime64Param(filters.since)
  }
  if (filters.until) {
    conditions.push(`occurred_at < {f_until:DateTime64(3, 'UTC')}`)
    params['f_until'] = dateTime64Param(filters.until)
  }
  return { conditions, params }
}

/**
 * The reference's Audit_Query bounds (AfterCreatedOn, BeforeCreatedOn, AfterUpdatedOn,
 * BeforeUpdatedOn): events of the records (tenant, object type, object id) whose creation — the
 * first `create` event — or last update — the newest `update` event — falls in the range. A record
 * with no such event is not in any range. The records are found among the events the key may
 * read (its tenants, and the object type when one is given).
 */
function recordTimeConditions(filters: EventFilters, scope: AccessScope): Conditions | undefined {
  const bounds = [
    ['createdSince', 'create', '>=', 'f_created_since'],
    ['createdUntil', 'create', '<', 'f_created_until'],
    ['updatedSince', 'update', '>=', 'f_updated_since'],
    ['updatedUntil', 'update', '<', 'f_updated_until'],
  ] as const
  const having: string[] = []
  const params: Record<string, unknown> = {}
  for (const [filter, kind, comparison, param] of bounds) {
    const bound = filters[filter]
    if (bound === undefined) continue
    const time =
      kind === 'create'
        ? "minIf(occurred_at, action_kind = 'create')"
        : "maxIf(occurred_at, action_kind = 'update')"
    having.push(
      `countIf(action_kind = '${kind}') > 0 AND ${time} ${comparison} {${param}:DateTime64(3, 'UTC')}`,
    )
    params[param] = dateTime64Param(bound)
  }
  if (having.length === 0) return undefined
  const within: string[] = []
  if (scope.tenants !== 'all') {
    within.push('tenant IN {scope_tenants:Array(String)}')
    params['scope_tenants'] = [...scope.tenants]
  }
  if (filters.objectType !== undefined) {
    within.push('object_type = {f_object_type:String}')
    params['f_object_type'] = filters.objectType
  }
  return {
    conditions: [
      `(tenant, object_type, object_id) IN (SELECT tenant, object_type, object_id FROM ${eventsView}${
        within.length === 0 ? '' : ` WHERE ${within.join(' AND ')}`
      } GROUP BY tenant, object_type, object_id HAVING ${having.join(' AND ')})`,
    ],
    params,
  }
}

/**
 * The stored texts a value given in a search may be: change values are stored as JSON text, so
 * `Urgent` is the string `"Urgent"`, and `3` is the number 3 or the string `"3"`. Pure.
 */
export function storedValueCandidates(text: string): string[] {
  const candidates = [JSON.stringify(text)]
  try {
    const json = JSON.stringify(JSON.parse(text))
    if (!candidates.includes(json)) candidates.push(json)
  } catch {
    // Not JSON: only the string.
  }
  return candidates
}

/**
 * `<tenant>:<blind index>` of a stored change value that is one sealed value (the JSON string
 * `"enc:v1:<key id>:<blind index>:<payload>"`, event-model's sealedValuePattern), and `<tenant>:`
 * for any other: what a search's `changedFromSealed` / `changedToSealed` hold. The tenant is part
 * of it because each tenant's blind indexes are keyed by its own index key.
 */
export function sealedBlindIndexOf(column: string): string {
  return `concat(tenant, ':', extract(ifNull(${column}, ''), '^"enc:v1:[A-Za-z0-9_-]{1,64}:([0-9a-f]{16}):[A-Za-z0-9_-]{38,}"$'))`
}

export type SortOrder = 'asc' | 'desc'

/** The keyset condition for the page after `cursor`: no OFFSET, so deep pages cost what the first does. */
export function afterCursor(cursor: PageCursor, order: SortOrder): Conditions {
  const comparison = order === 'asc' ? '>' : '<'
  return {
    conditions: [
      `(occurred_at, event_id) ${comparison} ({c_occurred_at:DateTime64(3, 'UTC')}, {c_event_id:UUID})`,
    ],
    params: { c_occurred_at: cursor.occurredAt, c_event_id: cursor.eventId },
  }
}

export function combine(...parts: Conditions[]): Conditions {
  return {
    conditions: parts.flatMap((part) => part.conditions),
    params: Object.assign({}, ...parts.map((part) => part.params)) as Record<string, unknown>,
  }
}

export function whereClause({ conditions }: Conditions): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`
}
