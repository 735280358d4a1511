import { z } from 'zod'
import {
  actionKinds,
  actorTypes,
  outcomeStatuses,
  severities,
  type AuditEvent,
  type FieldChange,
  type ValueType,
} from './auditEvent.js'
import { EventInvalidError, type EventProblem } from './eventInvalidError.js'
import { uuidPattern } from './eventPolicy.js'

/**
 * The documented JSON form of an audit event (schemas/README.md): the Avro field names, with
 * what people write by hand made easy: timestamps as ISO-8601 text or epoch milliseconds,
 * optional fields left out, change values and snapshots as plain JSON values instead of JSON
 * text. Unknown fields are rejected, so a typo is an error instead of lost data.
 */
const text = z.string({ error: 'expected a string' }).trim().min(1, 'must not be empty')
const optionalText = text.nullish().transform((v) => v ?? null)

const timestamp = z.union(
  [
    z.number().int('epoch milliseconds must be a whole number').nonnegative(),
    z
      .string()
      .regex(/(Z|[+-]\d{2}:?\d{2})$/, 'ISO-8601 time must end in Z or an offset like +02:00')
      .transform((value, ctx) => {
        const ms = Date.parse(value)
        if (Number.isNaN(ms)) {
          ctx.addIssue({ code: 'custom', message: `'${value}' is not an ISO-8601 time` })
          return z.NEVER
        }
        return ms
      }),
  ],
  { error: 'expected an ISO-8601 time with a zone (2024-03-14T09:45:00Z) or epoch milliseconds' },
)

const enumOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `expected one of: ${values.join(', ')}` })

const actor = z.strictObject({
  type: enumOf(actorTypes),
  id: text,
  display_name: optionalText,
  roles: z.array(text).default([]),
  ip: optionalText,
  user_agent: optionalText,
  session_id: optionalText,
})

const jsonValue = z.json()

/** A change as written by hand: values as JSON values; a missing key means "did not exist". */
const change = z
  .strictObject({
    path: text,
    old_value: jsonValue.optional(),
    new_value: jsonValue.optional(),
    value_type: z.string().optional(),
  })
  .transform((c): FieldChange => ({
    path: c.path,
    old_value: c.old_value === undefined ? null : JSON.stringify(c.old_value),
    new_value: c.new_value === undefined ? null : JSON.stringify(c.new_value),
    value_type: (c.value_type ??
      valueTypeOf(c.new_value !== undefined ? c.new_value : c.old_value)) as ValueType,
  }))

// A snapshot left out or given as null: there is none.
const snapshot = jsonValue
  .nullish()
  .transform((v) => (v === undefined || v === null ? null : JSON.stringify(v)))

const eventJson = z.strictObject({
  event_id: z
    .string({ error: 'expected a UUID, e.g. 3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e8f0a13' })
    .regex(uuidPattern, 'expected a UUID, e.g. 3f1c2a9e-8d4b-4f6a-9c1e-2b7d5e8f0a13'),
  occurred_at: timestamp,
  recorded_at: timestamp.optional(),
  tenant: text,
  source: z.strictObject({ service: text, instance: optionalText, version: optionalText }),
  actor,
  on_behalf_of: actor.nullish().transform((v) => v ?? null),
  action: z.strictObject({ kind: enumOf(actionKinds), name: text }),
  category: text,
  object: z.strictObject({ type: text, id: text, id2: optionalText, id3: optionalText, label: optionalText }),
  changes: z.array(change).default([]),
  before: snapshot,
  after: snapshot,
  outcome: z
    .strictObject({ status: enumOf(outcomeStatuses), reason: optionalText })
    .default({ status: 'success', reason: null }),
  severity: enumOf(severities).default('info'),
  correlation: z
    .strictObject({ trace_id: optionalText, request_id: optionalText })
    .default({ trace_id: null, request_id: null }),
  attributes: z.record(z.string(), z.string({ error: 'attribute values must be strings' })).default({}),
  sensitive_fields: z.array(text).default([]),
})

/** The event in the documented JSON form before `recorded_at` is known (it is set at send time). */
export type AuditEventDraft = Omit<AuditEvent, 'recorded_at'> & { recorded_at?: number }

/**
 * Reads one event in the documented JSON form. Throws EventInvalidError listing every problem
 * with its field path.
 */
export function parseEventJson(input: unknown): AuditEventDraft {
  // reportInput tells a missing field (input undefined) from a wrong one; inputs never leave here.
  const result = eventJson.safeParse(input, { reportInput: true })
  if (!result.success) throw new EventInvalidError(result.error.issues.map(toProblem))
  const { recorded_at, ...rest } = result.data
  return recorded_at === undefined ? rest : { ...rest, recorded_at }
}

function toProblem(issue: z.core.$ZodIssue): EventProblem {
  const field = issue.path.reduce<string>(
    (path, key) =>
      typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key),
    '',
  )
  if (issue.code === 'unrecognized_keys') {
    return {
      field: field || '(event)',
      message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
    }
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return { field, message: 'required' }
  return { field: field || '(event)', message: issue.message }
}

/** The value_type of a JSON value (Dates have already become strings in JSON). */
export function valueTypeOf(value: unknown): ValueType {
  if (value === null || value === undefined) return 'null'
  if (Array.isArray(value)) return 'array'
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'number':
    case 'bigint':
      return 'number'
    case 'boolean':
      return 'boolean'
    default:
      return value instanceof Date ? 'date' : 'object'
  }
}
