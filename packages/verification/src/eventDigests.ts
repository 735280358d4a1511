import { eventOfStoredRow } from '@audit-pipeline/clickhouse-schema'
import { contentDigest } from '@audit-pipeline/integrity'
import { nativeBlocks } from './nativeFormat.js'
import { storedEventRowsOf } from './storedRows.js'

/** Event ids and their content digests, index for index: what one page of stored events gives. */
export type EventDigests = { ids: string[]; digests: string[] }

/** The digest given to a stored row no event can be read back from: it matches no entry. */
export const undigestablePrefix = 'undigestable: '

/**
 * The content digest of every `audit_events` row in `bytes` (Native, storedEventSelect), recomputed
 * from the row as stored: eventOfStoredRow, then contentDigest. Pure; what the digest workers run.
 * A row whose event cannot be put in canonical form gets a digest that matches no entry, naming
 * why, so the entry recording it is reported `event-modified` instead of the run failing.
 */
export function digestStoredEvents(bytes: Buffer): EventDigests {
  const ids: string[] = []
  const digests: string[] = []
  for (const block of nativeBlocks(bytes)) {
    for (const row of storedEventRowsOf(block)) {
      ids.push(row.event_id_text)
      let digest: string
      try {
        digest = contentDigest(eventOfStoredRow(row))
      } catch (error) {
        digest = `${undigestablePrefix}${error instanceof Error ? error.message : String(error)}`
      }
      digests.push(digest)
    }
  }
  return { ids, digests }
}
