import type { ChainHead, SignedCheckpoint } from '@audit-pipeline/integrity'

/**
 * Where one (tenant, chain) stands, as this generation of the sink's steps knows it: the head the
 * next entry links to, the entries since the last checkpoint (their hashes are the next
 * checkpoint's Merkle leaves), and that checkpoint, which the next one chains to.
 */
export type ChainState = {
  head: ChainHead
  uncovered: { seq: number; hash: string }[]
  /** When the oldest uncovered entry was stored, ms; undefined when every entry is covered. */
  oldestUncoveredAtMs: number | undefined
  lastCheckpoint: SignedCheckpoint | null
}

/** A chain's identity within the trail. Chains are named `<topic>/<partition>`, tenants hold no NUL. */
export type ChainKey = string

export const chainKeyOf = (tenant: string, chain: string): ChainKey => `${tenant}\u0000${chain}`

/** The chain a record's event joins: the stream it was read from, whose one reader is this sink. */
export const chainNameOf = (topic: string, partition: number): string => `${topic}/${partition}`
