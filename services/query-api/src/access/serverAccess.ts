import { accessNames, readerRoles } from '@audit-pipeline/storage'
import type { AccessScope } from './accessScope.js'

/**
 * Who a query of the API runs as on a ClickHouse server, beyond the user it logs in as:
 * - `role`: the roles its key enables, sent as the HTTP `role` parameter, one per role
 *   (@clickhouse/client's per-query `role`; docs/en/interfaces/http.md, "Setting a role with
 *   query parameters": the same as `SET ROLE …` for this one query). The server's row policies
 *   then limit every table the query reads to the key's tenants, in subqueries, joins and
 *   `merge()` alike; the API's own tenant filter is a second line, no longer the only one.
 * - `quota_key`: the key's id, so that each key spends its own quota (`KEYED BY client_key`). It
 *   goes in `clickhouse_settings`, which @clickhouse/client sends as URL parameters; the server
 *   takes `quota_key` as the request's quota key, not as a setting.
 */
export type ServerQueryIdentity = {
  role: string[]
  quota_key: string
}

/**
 * The identity of `scope`'s queries against `database`'s access control (`audit-pipeline
 * clickhouse access apply`). Only for a storage over HTTP (`storage.describe().transport ===
 * 'http'`): embedded ClickHouse has no users or roles, and its filter is the API's own.
 *
 * The API's ClickHouse user has these roles granted but none as default, so a query sent without
 * `role` is refused outright instead of seeing every tenant. A tenant whose role does not exist
 * yet (access not applied since its key was made) fails the query with UNKNOWN_ROLE; one
 * restricted to no tenant at all gets the reader role alone, whose rows are none.
 */
export function serverQueryIdentity(scope: AccessScope, database: string): ServerQueryIdentity {
  return { role: readerRoles(accessNames(database), scope.tenants), quota_key: scope.keyId }
}
