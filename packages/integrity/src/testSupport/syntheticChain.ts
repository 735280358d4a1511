import type { AuditEvent } from '@audit-pipeline/event-model'
import { appendToChain, genesisHead } from '../chainEntry.js'
import { buildCheckpoint, type SignedCheckpoint } from '../checkpoint.js'
import { contentDigest } from '../contentDigest.js'
import type { SigningKey } from '../signingKeys.js'
import type { StoredEntry, VerifiedItem } from '../verifyChain.js'
import { sampleEvent } from './auditEvents.js'

export type SyntheticChain = {
  events: AuditEvent[]
  /** as storage would return them: entries in seq order, each with its event row's recomputed digest */
  items: VerifiedItem[]
  checkpoints: SignedCheckpoint[]
  /** every entry's hash, by seq */
  hashes: string[]
}

export const chainStart = 1_767_225_600_000

/**
 * `length` events chained in (tenant 'acme', chain 'audit.normalized/3'), a checkpoint over every
 * `checkpointEvery` entries (the tail shorter than that left uncovered), stored one second apart.
 */
export function syntheticChain(options: {
  length: number
  checkpointEvery: number
  key: SigningKey
}): SyntheticChain {
  const { length, checkpointEvery, key } = options
  let head = genesisHead('acme', 'audit.normalized/3')
  const events: AuditEvent[] = []
  const items: VerifiedItem[] = []
  const hashes: string[] = []
  const checkpoints: SignedCheckpoint[] = []
  for (let seq = 0; seq < length; seq++) {
    const event = sampleEvent(seq)
    const digest = contentDigest(event)
    const appended = appendToChain(head, {
      event_id: event.event_id,
      content_digest: digest,
      occurred_at: event.occurred_at,
      category: event.category,
    })
    head = appended.head
    events.push(event)
    hashes.push(appended.hash)
    const entry: StoredEntry = { ...appended.entry, entry_hash: appended.hash }
    items.push({ entry, storedDigest: digest, storedAtMs: chainStart + seq * 1000 })
    if ((seq + 1) % checkpointEvery === 0) {
      const first = seq + 1 - checkpointEvery
      checkpoints.push(
        buildCheckpoint({
          tenant: 'acme',
          chain: 'audit.normalized/3',
          previous: checkpoints.at(-1) ?? null,
          entries: hashes.slice(first).map((hash, i) => ({ seq: first + i, hash })),
          createdAtMs: chainStart + seq * 1000 + 500,
          key,
        }),
      )
    }
  }
  return { events, items, checkpoints, hashes }
}
