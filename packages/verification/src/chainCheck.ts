import { expiryOf, retentionOf, type RetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import {
  createChainVerifier,
  type ChainReport,
  type Finding,
  type PublicKeySet,
  type VerifiedItem,
} from '@audit-pipeline/integrity'
import type { ChainPlan, ChainStart } from './chainPlan.js'
import type { StoredChainRow } from './storedRows.js'

/** One chain's result: the verifier's report, where it started, and the entries whose events retention removed. */
export type ChainVerification = ChainReport & {
  start: ChainStart
  /** The last seq read (null: none). */
  lastSeq: number | null
  /** Entries whose event is gone and was due to go: its occurred_at plus its retention period has passed. */
  expired: number
}

/** What a chain check needs besides the rows: plain values, so it can be sent to a worker thread. */
export type ChainCheckInit = {
  plan: ChainPlan
  keys: PublicKeySet
  retention: RetentionPolicy
  nowMs: number
  checkpointGraceMs: number
}

/**
 * The stored digests of each row's event, index for index: `asRecorded` when ClickHouse found it
 * stored exactly as the entry records it (and in no other form), undefined when no row of that
 * event is stored, else every different digest stored under its id.
 */
export type RowDigests = readonly (readonly string[] | typeof asRecorded | undefined)[]

/** A row's event is stored as its entry records it: its digests are the entry's own. */
export const asRecorded = null

export type ChainCheck = {
  /** `digests` null: every row's event is stored as its entry records it. */
  add(rows: readonly StoredChainRow[], digests: RowDigests | null): void
  finish(): ChainVerification
}

/**
 * Feeds one chain's stored entries, in seq order, to the chain verifier (packages/integrity) with
 * the digest recomputed from each entry's stored event. Pure.
 *
 * An entry whose event is gone: if its occurred_at plus the retention period of its tenant and
 * category (both recorded, and signed, in the entry) has passed, retention removed it. It is
 * counted as expired and fed with the entry's own content digest as the stored one, so that its
 * links, hash and checkpoint root are still verified and it is not reported `event-deleted`.
 * Otherwise it is fed without a digest: `event-deleted`. An event stored with several different
 * digests is fed with one that differs from the entry's, so the changed copy is reported
 * `event-modified` even when another copy is intact.
 */
export function createChainCheck(init: ChainCheckInit): ChainCheck {
  const { plan, retention, nowMs } = init
  const { tenant, chain } = plan
  const verifier = createChainVerifier({
    tenant,
    chain,
    checkpoints: plan.checkpoints,
    keys: init.keys,
    checkpointGraceMs: init.checkpointGraceMs,
    nowMs,
  })
  const unreadable: Finding[] = []
  let expired = 0
  let lastSeq: number | null = null
  let previous: StoredChainRow['entry'] | undefined

  return {
    add(rows, digests) {
      rows.forEach(({ entry, storedAtMs, hashChecked }, index) => {
        if (!Number.isSafeInteger(entry.seq)) {
          // Nothing the sink writes: seq counts entries from 0. Such a row cannot be hashed.
          unreadable.push({
            kind: 'entry-modified',
            tenant,
            chain,
            event_id: entry.event_id,
            detail: `an entry recording event ${entry.event_id} is stored at seq ${entry.seq}, beyond any seq a chain reaches`,
          })
          return
        }
        const stored = digests === null ? asRecorded : digests[index]
        let storedDigest: string | undefined
        if (stored === undefined) {
          const expiresAtMs = expiryOf(retentionOf(retention, tenant, entry.category), entry.occurred_at)
          if (expiresAtMs <= nowMs) {
            storedDigest = entry.content_digest
            if (!sameEntry(previous, entry)) expired++
          }
        } else if (stored === asRecorded) {
          storedDigest = entry.content_digest
        } else {
          storedDigest = stored.find((digest) => digest !== entry.content_digest) ?? entry.content_digest
        }
        const covered = plan.coveredAfterSeq !== null && entry.seq > plan.coveredAfterSeq
        const item: VerifiedItem = covered
          ? { entry, storedDigest, hashChecked }
          : { entry, storedDigest, storedAtMs, hashChecked }
        verifier.add(item)
        previous = entry
        lastSeq = lastSeq === null ? entry.seq : Math.max(lastSeq, entry.seq)
      })
    },
    finish() {
      const report = verifier.finish()
      return {
        ...report,
        findings: [...unreadable, ...report.findings],
        start: plan.start,
        lastSeq,
        expired,
      }
    },
  }
}

/** An exact copy of the row before (a retried insert): counted once. */
function sameEntry(a: StoredChainRow['entry'] | undefined, b: StoredChainRow['entry']): boolean {
  return (
    a !== undefined &&
    a.seq === b.seq &&
    a.event_id === b.event_id &&
    a.entry_hash === b.entry_hash &&
    a.prev_hash === b.prev_hash &&
    a.content_digest === b.content_digest
  )
}
