import { randomUUID } from 'node:crypto'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import type { Logger } from '@audit-pipeline/service-runtime'
import type { Storage } from '@audit-pipeline/storage'
import type { AccessAudit, AccessRecord } from './accessAudit.js'
import { scopeOf, type AccessScope } from './access/accessScope.js'
import type { ApiKey } from './access/apiKeys.js'
import { authenticate } from './access/authenticate.js'
import type { QueryApiMetrics } from './metrics.js'
import type { SqlLimits } from './query/sqlSettings.js'
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
  sql: SqlLimits
}

export const defaultQueryApiLimits: QueryApiLimits = {
  maxPageRows: 1_000,
  maxCountGroups: 10_000,
  maxExportRows: 1_000_000,
  sql: { maxExecutionSeconds: 10, maxResultRows: 10_000 },
}

export type QueryApiOptions = {
  /** Already open; the API never closes it (in embedded mode the sink shares it). */
  storage: Storage
  keys: readonly ApiKey[]
  audit: AccessAudit
  log: Logger
  metrics: QueryApiMetrics
  limits?: Partial<QueryApiLimits>
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
  database: string
  limits: QueryApiLimits
  metrics: QueryApiMetrics
  log: Logger
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
  const keys = new Map(options.keys.map((key) => [key.id, key]))
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
          'Timelines, search, counts, alerts, exports and read-only SQL over the audit trail. Send `Authorization: Bearer <key id>.<secret>`.',
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
    record: Omit<AccessRecord, 'ip' | 'endpoint' | 'requestId' | 'filters'>,
  ) => {
    const userAgent = request.headers['user-agent']
    await audit.record({
      ...record,
      endpoint: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      filters: filtersForRecord(request),
      ip: request.ip,
      ...(userAgent !== undefined && { userAgent }),
      requestId: request.id,
    })
  }

  const recordRefusal = async (request: FastifyRequest, status: number, reason: string) => {
    try {
      await recordAccess(request, {
        keyId: request.scope?.keyId ?? keyIdOf(request.headers.authorization),
        role: request.scope?.role ?? null,
        outcome: status >= 500 ? 'failed' : 'denied',
        reason,
        status,
      })
    } catch (error) {
      // The refusal stands either way; the missing record is logged and counted.
      metrics.accessAuditFailures.inc()
      log.error({ err: error, requestId: request.id }, 'could not record a refused access')
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return
    const result = authenticate(request.headers.authorization, keys)
    if (result.ok) {
      request.scope = scopeOf(result.key)
      return
    }
    await recordRefusal(request, 401, result.message)
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'unauthorized', message: result.message })
  })

  app.addHook('onResponse', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return
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
      if (request.url.startsWith('/v1/')) await recordRefusal(request, refused.status, refused.message)
      return reply.code(refused.status).send({ error: errorName(refused.status), message: refused.message })
    }
    log.error({ err: error, requestId: request.id, route: request.routeOptions.url }, 'request failed')
    if (request.url.startsWith('/v1/')) await recordRefusal(request, 500, 'internal error')
    return reply.code(500).send({
      error: 'internal',
      message: `the request failed; the API log has the details under request id ${request.id}`,
    })
  })

  const context: RouteContext = {
    storage,
    database,
    limits,
    metrics,
    log,
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

/** What the request asked for, as the access record keeps it: query string, path and SQL. */
function filtersForRecord(request: FastifyRequest): Record<string, unknown> {
  const query = typeof request.query === 'object' && request.query !== null ? request.query : {}
  const params = typeof request.params === 'object' && request.params !== null ? request.params : {}
  const body = request.body as { sql?: unknown } | undefined
  return {
    ...(query as Record<string, unknown>),
    ...(params as Record<string, unknown>),
    ...(typeof body?.sql === 'string' && { sql: body.sql }),
  }
}

function keyIdOf(header: string | undefined): string | null {
  return /^Bearer\s+([^.\s]+)\./i.exec(header?.trim() ?? '')?.[1] ?? null
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
    { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 413: 'too_large' }[
      status
    ] ?? 'refused'
  )
}
