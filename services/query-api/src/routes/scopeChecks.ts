import type { FastifyRequest } from 'fastify'
import { mayReadTenant, type AccessScope } from '../access/accessScope.js'
import { decodeCursor, type PageCursor } from '../query/cursor.js'
import { RequestRefused } from '../requestRefused.js'

/** The request's scope; routes under /v1 always have one (the onRequest hook checked the key). */
export function scopeOfRequest(request: FastifyRequest): AccessScope {
  if (!request.scope) throw new RequestRefused(401, 'missing API key')
  return request.scope
}

/**
 * Refuses a tenant filter the key may not read, with a 403 that says so. Without a tenant filter
 * the SQL itself is restricted to the key's tenants, so nothing else can come back anyway.
 */
export function checkTenant(scope: AccessScope, tenant: string | undefined): void {
  if (tenant !== undefined && !mayReadTenant(scope, tenant)) {
    throw new RequestRefused(403, `key ${scope.keyId} may not read tenant '${tenant}'`)
  }
}

export function cursorOf(text: string | undefined): PageCursor | undefined {
  if (text === undefined) return undefined
  const cursor = decodeCursor(text)
  if (!cursor)
    throw new RequestRefused(
      400,
      "cursor: not a cursor this API gave out (use a page's next_cursor as it is)",
    )
  return cursor
}
