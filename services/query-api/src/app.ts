import { randomUUID } from 'node:crypto'
import swagger from '@fastify/swagger'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import type { AccessAudit, AccessRecord } from './accessAudit.js'
import { mayReadTenant, scopeOf, type AccessScope } from './access/accessScope.js'
import {
  defaultAnalystVisibility,
  fixedAnalystVisibility,
  type AnalystVisibilityLookup,
} from './access/analystVisibility.js'
import { serverQueryIdentity } from './access/serverAccess.js'
import { authenticate, type ApiKeyLookup } from './access/authenticate.js'
import type { QueryApiMetrics } from './metrics.js'
import { defaultQueryCaps, type QueryCaps } from './query/queryCaps.js'
import { createQueryRunner, type QueryRunner } from './query/queryRunner.js'
import { AccessNotAudited, RequestRefused } from './requestRefused.js'
import { registerEventRoutes } from './routes/eventRoutes.js'
import { registerExportRoute } from './routes/exportRoute.js'
import { registerSqlRoute } from './routes/sqlRoute.js'

export type QueryApiLimits = {
  /** Rows per page of events, timeline and alerts. */
  maxPageRows: number
  /** Groups per counts answer. */
  maxCountGroups: number
  /** Rows per export. */
  maxExportRows: number
  /** What each query may use in ClickHouse, whichever endpoint runs it. */
  caps: QueryCaps
  /** Queries running at once; with caps.maxMemoryBytes, what the API can take of memory. */
  maxConcurrentQueries: number
  /** Queries waiting for a slot before the API answers 503. */
  maxQueuedQueries: number
  /** Requests one key may make per minute; 429 with Retry-After beyond. */
  requestsPerMinute: number
  /** Failed authentications one source address may make per minute; 429 beyond. */
  authFailuresPerMinute: number
  sql: {
    /** Rows an SQL answer may have; a bigger one is refused. */
    maxResultRows: number
  }
}

export const defaultQueryApiLimits: QueryApiLimits = {
  maxPageRows: 1_000,
  maxCountGroups: 10_000,
  maxExportRows: 1_000_000,
  caps: defaultQueryCaps,
  maxConcurrentQueries: 4,
  maxQueuedQueries: 64,
  requestsPerMinute: 600,
  authFailuresPerMinute: 30,
  sql: { maxResultRows: 10_000 },
}

export type QueryApiOptions = {
  /** Already open; the API never closes it (in embedded mode the sink shares it). */
  storage: Storage
  /** Looked up on each request: the process gives a KeyRing, which follows the keys file. */
  keys: ApiKeyLookup
  audit: AccessAudit
  log: Logger
  metrics: QueryApiMetrics
  limits?: Partial<QueryApiLimits>
  /**
   * Where the data keys of sealed values are: auditors' answers show them opened (or `[erased]`).
   * Without it auditors see sealed values as stored. Analysts never see them either way.
   */
  fieldKeys?: KeyStore
  /**
   * Which actor details and whether attributes analysts see, per tenant, looked up on each request
   * (the process follows QUERY_API_ANALYST_VISIBILITY_FILE). Default: IP and session id hidden,
   * user agent and attributes visible.
   */
  analystVisibility?: AnalystVisibilityLookup
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the API key is checked; null on public routes. */
    scope: AccessScope | null
    /** Rows the answer held, for the access record. */
    rowCount: number | undefined
  }
}

/** What routes share: storage, limits, and the access record for their answer. */
export type RouteContext = {
  storage: Storage
  /** Every query of a route goes through it: caps, tenant filters, concurrency. */
  queries: QueryRunner
  database: string
  limits: QueryApiLimits
  metrics: QueryApiMetrics
  log: Logger
  /** Opens sealed values for auditors; undefined when the API has no key store. */
  fieldKeys: KeyStore | undefined
  /** What analysts see of actor details and attributes, per tenant (readerOf takes it once a request). */
  analystVisibility: AnalystVisibilityLookup
  /** Records the allowed read; throws AccessNotAudited when it cannot be recorded. */
  recordRead(request: FastifyRequest, rowCount: number | undefined): Promise<void>
}

/**
 * The query API as a fastify instance, not listening: `app.inject` in tests, `app.listen` in
 * main.ts or beside the sink in one process (embedded ClickHouse allows one process). Every
 * route under /v1 needs an API key; its tenant restriction and role are applied in the SQL and
 * in the answer, and every request there, allowed or refused, is given to `audit`.
 */
export async function createQueryApi(options: QueryApiOptions): Promise<FastifyInstance> {
  const { storage, audit, log, metrics } = options
  const limits: QueryApiLimits = { ...defaultQueryApiLimits, ...options.limits }
  const { keys } = options
  const database = storage.describe().database

  const app = Fastify({ logger: false, genReqId: () => randomUUID(), bodyLimit: 256 * 1024 })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.decorateRequest('scope', null)
  app.decorateRequest('rowCount', undefined)

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'audit-pipeline query API',
        description:
          'Timelines, search, counts, alerts, exports and read-only SQL over the audit trail. Send `Authorization: Bearer <key id>.<secret>`. What a key sees of change values and snapshots depends on its role: an auditor sees them as stored, with sealed values (`enc:v1:…`) opened when the API has their key store (`[erased]` once their data subject was erased, `[unreadable]` when one does not open); an analyst sees the values at the paths an event marks sensitive (sensitive_fields), and every sealed value, as `[redacted]`. What an analyst sees of `actor.ip`, `actor.session_id` and `actor.user_agent` (and the same of `on_behalf_of`), and of `attributes`, is set per tenant by the operator: a hidden one is null (attributes `{}`) in every answer, and filtering by `ip` or `session_id` (or alerts by `rule`, an attribute) where it is hidden in any tenant the request may cover is refused with 403. By default `ip` and `session_id` are hidden from analysts, `user_agent` and `attributes` shown. Auditors see them all. `POST /v1/sql` (auditors only) returns values as stored: sealed values stay ciphertext.',
        version: '1.0.0',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: '<key id>.<secret>' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  })

  const recordAccess = async (
    request: FastifyRequest,
    record: Omit<AccessRecord, 'ip' | 'endpoint' | 'requestId' | 'filters' | 'tenant'>,
  ) => {
    const userAgent = request.headers['user-agent']
    const filters = filtersForRecord(request)
    await audit.record({
      ...record,
      tenant: recordTenant(request.scope, filters),
      endpoint: bounded(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`, 256),
      filters,
      ip: request.ip,
      ...(userAgent !== undefined && { userAgent: bounded(userAgent, 256) }),
      requestId: request.id,
    })
  }

  const recordRefusal = async (request: FastifyRequest, status: number, reason: string) => {
    try {
      await recordAccess(request, {
        keyId: request.scope?.keyId ?? keyIdOf(request.headers.authorization),
        role: request.scope?.role ?? null,
        outcome: status >= 500 ? 'failed' : 'denied',
        // Bounded: the reason may echo the caller's input (a ClickHouse syntax error does).
        reason: bounded(reason, 2048),
        status,
      })
    } catch (error) {
      // The refusal stands either way; the missing record is logged and counted.
      metrics.accessAuditFailures.inc()
      log.error({ err: error, requestId: request.id }, 'could not record a refused access')
    }
  }

  await app.register(rateLimit, { global: false })
  // Failed authentications per source address: a guesser is stopped, and each address adds at
  // most that many access records a minute. Checked before the key, so a guess that happens to
  // be right is not told apart while the address is over its limit.
  const authFailures = app.createRateLimit({
    max: limits.authFailuresPerMinute,
    timeWindow: 60_000,
    // Named on both limiters: one left to the default took the other's.
    keyGenerator: (request) => `address:${request.ip}`,
  })
  // Requests per key, counted once the key is known.
  const keyRequests = app.createRateLimit({
    max: limits.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => `key:${request.scope?.keyId ?? ''}`,
  })

  // Every route needs a key except the public ones, decided on the route fastify matched, so
  // an encoded path (`/v%31/events`) is no way around it; an unknown path needs a key too.
  app.addHook('onRequest', async (request, reply) => {
    if (isPublic(request)) return
    const failures = await authFailures(request, { increment: false })
    if (!failures.isAllowed && (failures.isExceeded || failures.remaining <= 0)) {
      metrics.requestsLimited.inc({ limit: 'auth_failures' })
      return tooMany(reply, failures.ttlInSeconds, `too many failed authentications from ${request.ip}`)
    }
    const result = authenticate(request.headers.authorization, keys, Date.now())
    if (result.ok) {
      request.scope = scopeOf(result.key)
      const used = await keyRequests(request)
      if (!used.isAllowed && used.isExceeded) {
        metrics.requestsLimited.inc({ limit: 'key_requests' })
        return tooMany(
          reply,
          used.ttlInSeconds,
          `key ${result.key.id} made more than ${limits.requestsPerMinute} requests in a minute`,
        )
      }
      return
    }
    await authFailures(request)
    await recordRefusal(request, 401, result.message)
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: result.message })
  })

  app.addHook('onResponse', async (request, reply) => {
    if (isPublic(request)) return
    metrics.requests.inc({ route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) })
  })

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof AccessNotAudited) {
      metrics.accessAuditFailures.inc()
      log.error({ err: error.cause, requestId: request.id }, 'could not record an access: answer withheld')
      return reply.code(503).send({
        error: 'unavailable',
        message: 'the access could not be audited, so the answer is withheld; try again',
      })
    }
    const refused =
      error instanceof RequestRefused
        ? error
        : hasZodFastifySchemaValidationErrors(error)
          ? new RequestRefused(400, validationMessage(error))
          : isClientError(error)
            ? new RequestRefused(error.statusCode as 400, error.message)
            : undefined
    if (refused) {
      if (!isPublic(request)) await recordRefusal(request, refused.status, refused.message)
      if (refused.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(refused.retryAfterSeconds))
      return reply.code(refused.status).send({ error: errorName(refused.status), message: refused.message })
    }
    log.error({ err: error, requestId: request.id, route: request.routeOptions.url }, 'request failed')
    if (!isPublic(request)) await recordRefusal(request, 500, 'internal error')
    return reply.code(500).send({
      error: 'internal',
      message: `the request failed; the API log has the details under request id ${request.id}`,
    })
  })

  const context: RouteContext = {
    storage,
    queries: createQueryRunner({
      client: storage.client,
      database,
      caps: limits.caps,
      maxConcurrentQueries: limits.maxConcurrentQueries,
      maxQueuedQueries: limits.maxQueuedQueries,
      serverIdentity:
        storage.describe().transport === 'http' ? (scope) => serverQueryIdentity(scope, database) : undefined,
    }),
    database,
    limits,
    metrics,
    log,
    fieldKeys: options.fieldKeys,
    analystVisibility: options.analystVisibility ?? fixedAnalystVisibility(defaultAnalystVisibility),
    async recordRead(request, rowCount) {
      const scope = request.scope
      try {
        await recordAccess(request, {
          keyId: scope?.keyId ?? null,
          role: scope?.role ?? null,
          outcome: 'read',
          status: 200,
          ...(rowCount !== undefined && { rowCount }),
        })
      } catch (error) {
        throw new AccessNotAudited('access record not written', { cause: error })
      }
    },
  }

  const typed = app.withTypeProvider<ZodTypeProvider>()
  typed.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
  typed.get(
    '/v1/whoami',
    { schema: { summary: 'The key this request uses: id, role, tenants', tags: ['access'] } },
    (request) => {
      const scope = request.scope!
      return { key_id: scope.keyId, role: scope.role, tenants: scope.tenants }
    },
  )
  registerEventRoutes(typed, context)
  registerExportRoute(typed, context)
  registerSqlRoute(typed, context)
  return app
}

/** Routes anyone may call: the API's description. Everything else needs a key. */
const publicRoutes = new Set(['/openapi.json'])

function isPublic(request: FastifyRequest): boolean {
  const route = request.routeOptions.url
  return route !== undefined && publicRoutes.has(route)
}

function tooMany(reply: FastifyReply, retryAfterSeconds: number, why: string) {
  return reply
    .code(429)
    .header('retry-after', String(Math.max(1, retryAfterSeconds)))
    .send({ error: 'too_many_requests', message: `${why}: try again in ${Math.max(1, retryAfterSeconds)} s` })
}

/**
 * What the request asked for, as the access record keeps it: query string, path, and the SQL
 * with its parameters. Each value is cut at 4 KiB: the record is evidence, not a copy store.
 */
function filtersForRecord(request: FastifyRequest): Record<string, unknown> {
  const query = typeof request.query === 'object' && request.query !== null ? request.query : {}
  const params = typeof request.params === 'object' && request.params !== null ? request.params : {}
  const body = request.body as { sql?: unknown; params?: unknown } | undefined
  const fields: Record<string, unknown> = {
    ...(query as Record<string, unknown>),
    ...(params as Record<string, unknown>),
    ...(typeof body?.sql === 'string' && { sql: body.sql }),
    ...(typeof body?.params === 'object' && body.params !== null && { sql_params: body.params }),
  }
  return Object.fromEntries(
    Object.entries(fields)
      .slice(0, 64)
      .map(([name, value]) => [
        bounded(name, 128),
        typeof value === 'string' ? bounded(value, 4096) : boundedJson(value),
      ]),
  )
}

/**
 * The tenant an access record is filed under: the tenant the request named, when its key may
 * read it; otherwise the pipeline's own. A caller who names a tenant it may not read, or has no
 * valid key, must not write into that tenant's trail.
 */
function recordTenant(scope: AccessScope | null, filters: Record<string, unknown>): string | undefined {
  const tenant = filters['tenant']
  if (scope === null || typeof tenant !== 'string' || tenant === '') return undefined
  return mayReadTenant(scope, tenant) ? tenant : undefined
}

function bounded(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} characters)`
}

function boundedJson(value: unknown): unknown {
  const text = JSON.stringify(value) ?? ''
  return text.length <= 4096 ? value : bounded(text, 4096)
}

/** The key id a refused request claimed, as far as it can be read; at most 64 characters. */
function keyIdOf(header: string | undefined): string | null {
  const claimed = /^Bearer\s+([^.\s]+)\./i.exec(header?.trim().slice(0, 512) ?? '')?.[1]
  return claimed === undefined ? null : bounded(claimed, 64)
}

function isClientError(error: unknown): error is { statusCode: number; message: string } {
  const status = (error as { statusCode?: unknown }).statusCode
  return typeof status === 'number' && status >= 400 && status < 500
}

function validationMessage(error: { validation: { instancePath?: string; message?: string }[] }): string {
  return error.validation
    .map(
      (problem) =>
        `${problem.instancePath?.replace(/^\//, '') || 'request'}: ${problem.message ?? 'invalid'}`,
    )
    .join('; ')
}

function errorName(status: number): string {
  return (
    {
      400: 'bad_request',
      401: 'unauthorized',
      403: 'forbidden',
      404: 'not_found',
      413: 'too_large',
      429: 'too_many_requests',
      503: 'unavailable',
    }[status] ?? 'refused'
  )
}
