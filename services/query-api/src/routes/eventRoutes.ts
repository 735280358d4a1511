import type { FastifyRequest } from 'fastify'
import type { AccessScope } from '../access/accessScope.js'
import { alertAnswer, alertConditions } from '../answers/alertAnswer.js'
import { eventAnswer } from '../answers/eventAnswer.js'
import type { StoredEventRow } from '../answers/eventRow.js'
import { createRecordState, type RecordKeeping } from '../answers/recordState.js'
import type { RouteContext } from '../app.js'
import { countQuery } from '../query/countQueries.js'
import { encodeCursor } from '../query/cursor.js'
import type { EventFilters } from '../query/eventFilters.js'
import {
  eventPageQuery,
  recordKeptLatestQuery,
  recordPageQuery,
  type EventPageRequest,
  type ParameterizedQuery,
} from '../query/eventQueries.js'
import {
  alertsQuery,
  countsQuery,
  filtersOf,
  searchQuery,
  stateQuery,
  timelineParams,
  timelineQuery,
} from './requestSchemas.js'
import { parseIsoTime } from '../query/time.js'
import { RequestRefused } from '../requestRefused.js'
import type { Reader } from '../answers/redaction.js'
import { readerOf, rowsShown, withSealedValueSearch } from './readerRows.js'
import {
  checkHiddenFilters,
  checkTenant,
  cursorOf,
  filtersOnHideableFields,
  scopeOfRequest,
} from './scopeChecks.js'
import { select } from './selectRows.js'
import { bearerSecurity, type ZodApp } from './zodApp.js'

/** The most events a record's state is rebuilt from: past that, its timeline is the answer. */
const maxStateEvents = 100_000

const keptDescription =
  '`kept` is `latest` when the record is kept at temporal logging level 1: only its latest change is stored (audit_record_latest), so the changes it replaced were not kept and are in no answer; `all` otherwise.'

/** Search, a record's timeline and state, counts and alerts: JSON answers, paged by keyset cursor. */
export function registerEventRoutes(app: ZodApp, context: RouteContext): void {
  const { limits } = context

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Search events: filters, newest first, keyset pagination',
        description:
          'With changed and from/to, an auditor also finds sealed values (by their blind index, each match confirmed on the opened value, so an erased value is not found); an analyst finds no event that marks any field sensitive. A page may hold fewer events than limit while next_cursor is not null. Searches the trail: the latest change of a record kept at temporal logging level 1 (audit_record_latest) is read with its timeline, its state or SQL.',
        tags: ['events'],
        security: bearerSecurity,
        querystring: searchQuery(limits.maxPageRows),
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      const { limit, cursor, order, ...filterQuery } = request.query
      const asked = filtersOf(filterQuery)
      checkTenant(scope, asked.tenant)
      const reader = readerOf(context, scope)
      checkHiddenFilters(scope, reader, asked.tenant, filtersOnHideableFields(asked))
      const filters = await withSealedValueSearch(context, scope, '/v1/events', asked)
      const page = await eventPage(context, request, '/v1/events', reader, {
        filters,
        order,
        limit,
        ...withCursor(cursor),
      })
      await context.recordRead(request, page.events.length)
      return page
    },
  )

  app.get(
    '/v1/objects/:object_type/:object_id/timeline',
    {
      schema: {
        summary: "A record's timeline: every event about it, oldest first, with its changes",
        description: `Answers {events, next_cursor, kept}. The events are the trail's and, for a record kept at temporal logging level 1, its latest change. ${keptDescription}`,
        tags: ['events'],
        security: bearerSecurity,
        params: timelineParams,
        querystring: timelineQuery(limits.maxPageRows),
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      const { limit, cursor, ...filterQuery } = request.query
      const filters = {
        ...filtersOf(filterQuery),
        objectType: request.params.object_type,
        objectId: request.params.object_id,
      }
      checkTenant(scope, filters.tenant)
      const route = '/v1/objects/timeline'
      const page: EventPageRequest = { filters, order: 'asc', limit, ...withCursor(cursor) }
      const [events, kept] = await Promise.all([
        eventPage(context, request, route, readerOf(context, scope), page, recordPageQuery),
        recordKeeping(context, scope, route, filters),
      ])
      await context.recordRead(request, events.events.length)
      return { ...events, kept }
    },
  )

  app.get(
    '/v1/objects/:object_type/:object_id/state',
    {
      schema: {
        summary:
          "A record's state as of a time, rebuilt from its events: each field's value and its last change",
        description: `Folded from the events its timeline gives, up to at. ${keptDescription} Such a record's state is folded from its latest change alone: its fields are those that change set, and a state as of a time before it is 404.`,
        tags: ['events'],
        security: bearerSecurity,
        params: timelineParams,
        querystring: stateQuery,
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      const { at: atText, ...filterQuery } = request.query
      const at = atText === undefined ? new Date() : (parseIsoTime(atText) as Date)
      const filters = {
        ...filtersOf(filterQuery),
        objectType: request.params.object_type,
        objectId: request.params.object_id,
        // Events at `at` itself count.
        until: new Date(at.getTime() + 1),
      }
      checkTenant(scope, filters.tenant)
      const route = '/v1/objects/state'
      const kept = await recordKeeping(context, scope, route, filters)
      const state = createRecordState(at.toISOString(), kept)
      const reader = readerOf(context, scope)
      const tenants = new Set<string>()
      let cursor: EventPageRequest['cursor']
      let read = 0
      do {
        const { rows, nextCursor } = await pageRows(
          context,
          request,
          route,
          { filters, order: 'asc', limit: limits.maxPageRows, ...(cursor !== undefined && { cursor }) },
          recordPageQuery,
        )
        // Folded as the key reads them: an auditor's state has sealed values opened.
        for (const row of await rowsShown(rows, reader)) {
          tenants.add(row.tenant)
          state.add(eventAnswer(row))
        }
        read += rows.length
        if (read > maxStateEvents) {
          await context.recordRead(request, read)
          throw new RequestRefused(
            413,
            `${request.params.object_type} ${request.params.object_id} has more than ${maxStateEvents} events up to ${at.toISOString()}: its state cannot be rebuilt here; read its timeline instead`,
          )
        }
        cursor = nextCursor === null ? undefined : cursorOf(nextCursor)
      } while (cursor !== undefined)
      if (tenants.size > 1) {
        throw new RequestRefused(
          400,
          `${request.params.object_type} ${request.params.object_id} exists in several tenants (${[...tenants].sort().join(', ')}): name one with tenant`,
        )
      }
      const answer = state.finish()
      await context.recordRead(request, read)
      if (answer === undefined) {
        const record = `${request.params.object_type} ${request.params.object_id}`
        throw new RequestRefused(
          404,
          `no events of ${record} up to ${at.toISOString()} that this key may read` +
            (kept === 'latest'
              ? `: ${record} is kept at temporal logging level 1, which keeps only its latest change, made after ${at.toISOString()}`
              : ''),
        )
      }
      return answer
    },
  )

  app.get(
    '/v1/alerts',
    {
      schema: {
        summary: 'Alerts raised and resolved by the alerting service, newest first',
        tags: ['alerts'],
        security: bearerSecurity,
        querystring: alertsQuery(limits.maxPageRows),
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      const { limit, cursor, rule, ...filterQuery } = request.query
      const filters = filtersOf(filterQuery)
      checkTenant(scope, filters.tenant)
      const reader = readerOf(context, scope)
      // An alert's rule is one of its attributes: where analysts may not see attributes, they may
      // not search by one either (their alerts still name the rule, from the alert's object).
      checkHiddenFilters(
        scope,
        reader,
        filters.tenant,
        rule === undefined ? [] : [{ filter: 'rule', field: 'attributes' }],
      )
      const { rows, nextCursor } = await pageRows(context, request, '/v1/alerts', {
        filters,
        order: 'desc',
        limit,
        extra: alertConditions(rule),
        ...withCursor(cursor),
      })
      // Alerts carry no changes or snapshots today; read like every other event all the same, so
      // where analysts may not see attributes, an alert's attribute-borne fields are empty for them.
      const alerts = (await rowsShown(rows, reader)).map((row) => alertAnswer(row))
      await context.recordRead(request, alerts.length)
      return { alerts, next_cursor: nextCursor }
    },
  )

  app.get(
    '/v1/counts',
    {
      schema: {
        summary: 'Event counts grouped by dimensions and a time bucket',
        description:
          'Answered from audit_actions_hourly (deliveries: a copy that escaped deduplication counts twice) when it holds every dimension and filter and the range falls on whole hours; otherwise, or with exact=true, from the events, each once. `source` and `exact` say which. A count by from/to counts values stored in the clear only: sealed values are searched with /v1/events, which confirms each match. Counts the trail only: records kept at temporal logging level 1 (audit_record_latest) are counted with SQL.',
        tags: ['counts'],
        security: bearerSecurity,
        querystring: countsQuery(limits.maxCountGroups),
      },
    },
    async (request) => {
      const scope = scopeOfRequest(request)
      const { by, bucket, exact, limit, ...filterQuery } = request.query
      const filters = filtersOf(filterQuery)
      checkTenant(scope, filters.tenant)
      checkHiddenFilters(scope, readerOf(context, scope), filters.tenant, filtersOnHideableFields(filters))
      const { source, ...query } = countQuery({ filters, by, bucket, exact, maxGroups: limit }, scope)
      const rows = await select<Record<string, string>>(context, scope, '/v1/counts', query)
      const groups = rows.slice(0, limit).map(({ events, bucket: start, ...dimensions }) => ({
        ...(start !== undefined && { bucket: new Date(`${start.replace(' ', 'T')}Z`).toISOString() }),
        ...dimensions,
        events: Number(events),
      }))
      await context.recordRead(request, groups.length)
      return {
        groups,
        truncated: rows.length > limit,
        source,
        exact: source !== 'audit_actions_hourly',
      }
    },
  )
}

function withCursor(cursor: string | undefined) {
  const decoded = cursorOf(cursor)
  return decoded === undefined ? {} : { cursor: decoded }
}

/** Builds the query of one page: of the trail (search, alerts), or of a record (timeline, state). */
type PageQuery = (page: EventPageRequest, scope: AccessScope) => ParameterizedQuery

async function eventPage(
  context: RouteContext,
  request: FastifyRequest,
  route: string,
  reader: Reader,
  page: EventPageRequest,
  query: PageQuery = eventPageQuery,
) {
  const { rows, nextCursor } = await pageRows(context, request, route, page, query)
  // A page may come out shorter than its limit (a sealed-value match not confirmed once opened):
  // the cursor still follows the last row read, so the next page starts after it.
  const shown = await rowsShown(rows, reader, page.filters)
  return { events: shown.map((row) => eventAnswer(row)), next_cursor: nextCursor }
}

/** A page of rows, and the cursor of the next page when one follows. */
async function pageRows(
  context: RouteContext,
  request: FastifyRequest,
  route: string,
  page: EventPageRequest,
  query: PageQuery = eventPageQuery,
) {
  const scope = scopeOfRequest(request)
  const rows = await select<StoredEventRow>(context, scope, route, query(page, scope))
  const shown = rows.slice(0, page.limit)
  const last = shown.at(-1)
  const nextCursor =
    rows.length > page.limit && last
      ? encodeCursor({ occurredAt: last.occurred_at, eventId: last.event_id })
      : null
  context.metrics.rowsReturned.inc({ route }, shown.length)
  return { rows: shown, nextCursor }
}

/**
 * Whether the record `filters` name is kept at temporal logging level 1 for this key: `latest`
 * when audit_record_latest holds a row of it in a tenant the key reads, whatever the time range.
 */
async function recordKeeping(
  context: RouteContext,
  scope: AccessScope,
  route: string,
  filters: EventFilters,
): Promise<RecordKeeping> {
  const rows = await select<{ kept: number }>(context, scope, route, recordKeptLatestQuery(filters, scope))
  return rows.length > 0 ? 'latest' : 'all'
}
