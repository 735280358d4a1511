import { standardCategories, valueTypes, type AuditEvent } from './auditEvent.js'
import { EventInvalidError, type EventProblem } from './eventInvalidError.js'
import { parsePath } from './jsonValuePath.js'
import type { AuditEventDraft } from './jsonForm.js'

/** What a deployment accepts beyond the schema's shape. */
export type EventPolicy = {
  /** Categories events may carry. Default: business, security, platform, debug. */
  categories: readonly string[]
  /** How far ahead of `now` an event's time may be (clock skew). Default: 5 minutes. */
  maxFutureSkewMs: number
}

export const defaultEventPolicy: EventPolicy = {
  categories: standardCategories,
  maxFutureSkewMs: 5 * 60_000,
}

/** Any UUID form (8-4-4-4-12 hex): ids come from many systems, not all of them RFC 9562 v4. */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The rules the shape alone cannot express, for events built in code as well as parsed from
 * JSON: a UUID event id, times that are not in the future, a known category, changes whose
 * values are JSON text. Returns every problem; empty when the event is acceptable.
 */
export function eventProblems(
  event: AuditEventDraft | AuditEvent,
  now: number,
  policy: EventPolicy = defaultEventPolicy,
  /** Skip re-parsing change values and snapshots that our own JSON writer produced. */
  { jsonTextTrusted = false }: { jsonTextTrusted?: boolean } = {},
): EventProblem[] {
  const problems: EventProblem[] = []
  const problem = (field: string, message: string) => problems.push({ field, message })
  const required = (field: string, value: unknown) => {
    if (typeof value !== 'string' || value.trim() === '') problem(field, 'required')
  }

  if (typeof event.event_id !== 'string' || !uuidPattern.test(event.event_id)) {
    problem('event_id', `expected a UUID, got ${JSON.stringify(event.event_id)}`)
  }
  for (const field of ['occurred_at', 'recorded_at'] as const) {
    const time = event[field]
    if (time === undefined && field === 'recorded_at') continue
    if (typeof time !== 'number' || !Number.isInteger(time) || time < 0) {
      problem(field, 'expected UTC epoch milliseconds')
    } else if (time > now + policy.maxFutureSkewMs) {
      problem(
        field,
        `${new Date(time).toISOString()} is in the future (more than ${policy.maxFutureSkewMs / 1000} s ahead of ${new Date(now).toISOString()})`,
      )
    }
  }
  required('tenant', event.tenant)
  if (!event.source) problem('source', 'required')
  else required('source.service', event.source.service)
  if (!event.actor) problem('actor', 'required')
  else required('actor.id', event.actor.id)
  if (!event.action) problem('action', 'required')
  else required('action.name', event.action.name)
  if (!policy.categories.includes(event.category)) {
    problem(
      'category',
      `unknown category '${event.category}'; expected one of: ${policy.categories.join(', ')}`,
    )
  }
  if (!event.object) problem('object', 'required')
  else {
    required('object.type', event.object.type)
    required('object.id', event.object.id)
  }
  event.changes?.forEach((change, i) => {
    required(`changes[${i}].path`, change.path)
    if (typeof change.path === 'string' && change.path.trim() !== '' && !isPath(change.path)) {
      problem(
        `changes[${i}].path`,
        `'${change.path}' is not a field path (e.g. customer.address.city, tags[2], labels["e.mail"])`,
      )
    }
    if (change.old_value === null && change.new_value === null) {
      problem(`changes[${i}]`, 'a change needs old_value, new_value or both (neither means nothing changed)')
    }
    if (!(valueTypes as readonly string[]).includes(change.value_type)) {
      problem(`changes[${i}].value_type`, `expected one of: ${valueTypes.join(', ')}`)
    }
    for (const side of ['old_value', 'new_value'] as const) {
      if (change[side] !== null && !isJsonText(change[side]))
        problem(`changes[${i}].${side}`, 'expected JSON text')
    }
  })
  event.sensitive_fields?.forEach((path, i) => {
    if (!isPath(path.replaceAll('[*]', '[0]'))) {
      problem(
        `sensitive_fields[${i}]`,
        `'${path}' is not a field path (e.g. customer.email, cards[*].number)`,
      )
    }
  })
  for (const side of ['before', 'after'] as const) {
    if (!jsonTextTrusted && event[side] !== null && !isJsonText(event[side]))
      problem(side, 'expected JSON text')
  }
  return problems
}

/** Throws EventInvalidError when the event breaks a rule. */
export function assertEventAcceptable(
  event: AuditEventDraft | AuditEvent,
  now: number,
  policy: EventPolicy = defaultEventPolicy,
  options: { jsonTextTrusted?: boolean } = {},
): void {
  const problems = eventProblems(event, now, policy, options)
  if (problems.length > 0) throw new EventInvalidError(problems)
}

function isPath(path: string): boolean {
  try {
    parsePath(path)
    return true
  } catch {
    return false
  }
}

function isJsonText(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    JSON.parse(value)
    return true
  } catch {
    return false
  }
}
