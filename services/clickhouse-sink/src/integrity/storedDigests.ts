import { uuidPattern } from '@audit-pipeline/event-model'
import type { Storage } from '@audit-pipeline/storage'
import { eventKeyOf, type EventIdentity, type EventKey } from './eventIdentity.js'

/**
 * Ids per look-up: the ids travel as a query parameter in the URL (HTTP) or the statement
 * (embedded), and 2,000 UUIDs keep either well under ClickHouse's 1 MiB URI limit.
 */
const idsPerLookup = 2_000

/**
 * The content digest the trail holds for each of these events, at any age: read from the chain
 * table through its (tenant, event_id) projection, so only the asked ids' rows are read. An event
 * the trail does not hold is absent from the map.
 */
export async function readStoredDigests(
  storage: Storage,
  chainTable: string,
  identities: readonly Pick<EventIdentity, 'tenant' | 'eventId'>[],
): Promise<Map<EventKey, string>> {
  const digests = new Map<EventKey, string>()
  const byTenant = new Map<string, Set<string>>()
  for (const { tenant, eventId } of identities) {
    // An id that is no UUID cannot be stored (event_id is a UUID column: its insert is refused);
    // leaving it out keeps the look-up's parameter a valid Array(UUID).
    if (!uuidPattern.test(eventId)) continue
    const ids = byTenant.get(tenant) ?? new Set<string>()
    byTenant.set(tenant, ids.add(eventId.toLowerCase()))
  }
  for (const [tenant, ids] of byTenant) {
    const all = [...ids]
    for (let start = 0; start < all.length; start += idsPerLookup) {
      const result = await storage.client.query({
        // The first copy's digest (stored first), should two sinks ever have chained one id twice.
        // (No alias named like a column: ClickHouse would read the WHERE through it.)
        query: `SELECT toString(event_id) AS id, argMin(content_digest, stored_at) AS digest FROM ${chainTable}
                WHERE tenant = {tenant:String} AND event_id IN {ids:Array(UUID)}
                GROUP BY event_id`,
        query_params: { tenant, ids: all.slice(start, start + idsPerLookup) },
        format: 'JSONEachRow',
      })
      for (const row of await result.json<{ id: string; digest: string }>()) {
        digests.set(eventKeyOf({ tenant, eventId: row.id }), row.digest)
      }
    }
  }
  return digests
}
