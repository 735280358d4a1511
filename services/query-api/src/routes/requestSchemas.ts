import { actionKinds, actorTypes, outcomeStatuses, severities } from '@audit-pipeline/event-model'
import { z } from 'zod'
import { countDimensions, timeBuckets, type CountDimension } from '../query/countQueries.js'
import type { EventFilters } from '../query/eventFilters.js'
import { parseIsoTime } from '../query/time.js'
import { RequestRefused } from '../requestRefused.js'

const text = (description: string) => z.string().min(1).max(1024).describe(description)
const isoTime = (description: string) =>
  z
    .string()
    .refine((value) => parseIsoTime(value) !== undefined, {
      message:
        'expected an ISO-8601 date such as 2026-03-01, or a time with its zone such as 2026-03-01T12:00:00Z',
    })
    .describe(description)

/** The filters search, counts, alerts and export share; unknown names are refused (a typo would filter nothing). */
export const filterShape = {
  tenant: text('tenant; a tenant-restricted key may name only its own').optional(),
  actor: text('actor id').optional(),
  actor_type: z.enum(actorTypes).optional(),
  action: text('action name, e.g. ticket.update').optional(),
  action_kind: z.enum(actionKinds).optional(),
  category: text('category, e.g. security').optional(),
  object_type: text('object type, e.g. ticket').optional(),
  object_id: text('object id').optional(),
  object_id2: text('second part of a composite object id').optional(),
  object_id3: text('third part of a composite object id').optional(),
  session_id: text(
    "the actor's session id; refused (403) to an analyst where session ids are hidden from analysts",
  ).optional(),
  ip: text(
    "the actor's IP address, as the event gave it; refused (403) to an analyst where IP addresses are hidden from analysts",
  ).optional(),
  request_id: text('correlation request id').optional(),
  trace_id: text('correlation trace id').optional(),
  source_service: text('the service that emitted the event').optional(),
  changed: text('a field the event changed, e.g. priority').optional(),
  from: text('with changed: the value it changed from (text, or JSON such as 3 or true)').optional(),
  to: text('with changed: the value it changed to').optional(),
  outcome: z.enum(outcomeStatuses).optional(),
  severity: z.enum(severities).optional(),
  created_since: isoTime('only records created (their first create event) at or after').optional(),
  created_until: isoTime('only records created before').optional(),
  updated_since: isoTime('only records last updated (their newest update event) at or after').optional(),
  updated_until: isoTime('only records last updated before').optional(),
  since: isoTime('occurred at or after (ISO-8601 with zone, or a date: midnight UTC)').optional(),
  until: isoTime('occurred before (ISO-8601 with zone, or a date)').optional(),
}

export type FilterQuery = { [K in keyof typeof filterShape]?: string }

export const pageShape = (maxRows: number) => ({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxRows)
    .default(Math.min(100, maxRows))
    .describe(`rows per page, 1 to ${maxRows}`),
  cursor: z.string().max(512).optional().describe("the previous page's next_cursor"),
})

export const searchQuery = (maxRows: number) =>
  z.strictObject({
    ...filterShape,
    ...pageShape(maxRows),
    order: z.enum(['desc', 'asc']).default('desc').describe('newest first (desc, default) or oldest first'),
  })

export const timelineParams = z.strictObject({
  object_type: z.string().min(1).max(1024),
  object_id: z.string().min(1).max(1024),
})

export const timelineQuery = (maxRows: number) =>
  z.strictObject({
    tenant: filterShape.tenant,
    object_id2: filterShape.object_id2,
    object_id3: filterShape.object_id3,
    since: filterShape.since,
    until: filterShape.until,
    ...pageShape(maxRows),
  })

export const stateQuery = z.strictObject({
  tenant: filterShape.tenant,
  object_id2: filterShape.object_id2,
  object_id3: filterShape.object_id3,
  at: isoTime('the state as of this time, its events at that time included (default: now)').optional(),
})

export const alertsQuery = (maxRows: number) =>
  z.strictObject({
    tenant: filterShape.tenant,
    severity: filterShape.severity,
    since: filterShape.since,
    until: filterShape.until,
    rule: text(
      'only alerts of this rule (an alert attribute: refused (403) to an analyst where attributes are hidden from analysts)',
    ).optional(),
    ...pageShape(maxRows),
  })

const dimensionNames = Object.keys(countDimensions) as CountDimension[]

export const countsQuery = (maxGroups: number) =>
  z.strictObject({
    ...filterShape,
    by: z
      .string()
      .default('action')
      .transform((value) => (value.trim() === '' ? [] : value.split(',').map((name) => name.trim())))
      .refine((names) => names.every((name) => (dimensionNames as string[]).includes(name)), {
        message: `expected comma-separated dimensions from: ${dimensionNames.join(', ')}`,
      })
      .transform((names) => [...new Set(names)] as CountDimension[])
      .describe(`comma-separated: ${dimensionNames.join(', ')}`),
    bucket: z.enum(timeBuckets).default('hour'),
    exact: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true')
      .describe('count each event once (from the events) instead of deliveries (from the hourly table)'),
    limit: z.coerce.number().int().min(1).max(maxGroups).default(Math.min(1000, maxGroups)),
  })

export const exportQuery = z.strictObject({
  ...filterShape,
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
})

export const sqlBody = z.strictObject({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .describe('one SELECT; {name:Type} placeholders take values from params'),
  params: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean()]))
    .optional(),
})

/** The query string's filters as typed filters. Times were checked by the schema. */
export function filtersOf(query: FilterQuery): EventFilters {
  if ((query.from !== undefined || query.to !== undefined) && query.changed === undefined) {
    throw new RequestRefused(
      400,
      'from and to search by the value a field changed from or to: name the field with changed',
    )
  }
  const time = (value: string | undefined) => (value === undefined ? undefined : parseIsoTime(value))
  const filters: EventFilters = {
    tenant: query.tenant,
    actor: query.actor,
    actorType: query.actor_type,
    action: query.action,
    actionKind: query.action_kind,
    category: query.category,
    objectType: query.object_type,
    objectId: query.object_id,
    objectId2: query.object_id2,
    objectId3: query.object_id3,
    sessionId: query.session_id,
    ip: query.ip,
    requestId: query.request_id,
    traceId: query.trace_id,
    sourceService: query.source_service,
    changed: query.changed,
    changedFrom: query.from,
    changedTo: query.to,
    outcome: query.outcome,
    severity: query.severity,
    createdSince: time(query.created_since),
    createdUntil: time(query.created_until),
    updatedSince: time(query.updated_since),
    updatedUntil: time(query.updated_until),
    since: time(query.since),
    until: time(query.until),
  }
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined))
}
