import type { EventIdConflict } from '@audit-pipeline/dead-letter'
import { eventKeyOf, type EventIdentity, type EventKey } from './eventIdentity.js'

/** A row's fate against the trail: stored already (an exact replay), new, or conflicting with what is stored. */
export type Admission<Row> = {
  /** New to the trail, in batch order: stored and chained. */
  readonly admitted: Row[]
  /** The same (tenant, event_id) and digest as an event in the trail, or earlier in the batch: only committed. */
  readonly replays: Row[]
  /** The same (tenant, event_id) as an event in the trail or earlier in the batch, with other content: dead-lettered. */
  readonly conflicts: { row: Row; conflict: EventIdConflict }[]
}

/**
 * Decides each row of a batch against the digests the trail holds for its events (any age: the
 * chain table is the index) and against the rows before it in the batch. The first accepted copy
 * of an event is the one kept, always: a later copy with the same content is a replay, one with
 * other content a conflict, never stored over it. Pure.
 */
export function admitRows<Row extends { readonly identity: EventIdentity }>(
  rows: readonly Row[],
  storedDigests: ReadonlyMap<EventKey, string>,
): Admission<Row> {
  const admission: Admission<Row> = { admitted: [], replays: [], conflicts: [] }
  const taken = new Map<EventKey, string>()
  for (const row of rows) {
    const { identity } = row
    const key = eventKeyOf(identity)
    const kept = storedDigests.get(key) ?? taken.get(key)
    if (kept === undefined) {
      taken.set(key, identity.digest)
      admission.admitted.push(row)
    } else if (kept === identity.digest) {
      admission.replays.push(row)
    } else {
      admission.conflicts.push({
        row,
        conflict: {
          tenant: identity.tenant,
          eventId: identity.eventId,
          storedDigest: kept,
          refusedDigest: identity.digest,
        },
      })
    }
  }
  return admission
}
