import { type ChainEntry, entryHashAt, zeroHash } from './chainEntry.js'
import { checkpointHash, type SignedCheckpoint, verifyCheckpointSignature } from './checkpoint.js'
import { merkleRoot } from './merkleTree.js'
import type { PublicKeySet } from './signingKeys.js'

/**
 * The chain verification engine: one (tenant, chain) at a time, fed its stored entries in seq
 * order (each with the digest recomputed from its stored event row) and given its stored
 * checkpoints; it recomputes every hash and reports what no longer matches as findings. Pure and
 * streaming: it holds the hashes of the current checkpoint's range and a small window of entries,
 * never the chain.
 *
 * How entries are followed. The chain is followed by its links, not by the seq column: the entry
 * after the one accepted last is the one whose prev_hash is that entry's recomputed hash. Almost
 * always it is the next row, at the next seq. When it is not, the verifier looks for it among the
 * next `reorderWindowEntries` rows:
 * - found elsewhere, with a stored entry_hash equal to its hash at the expected seq: an intact
 *   entry stored at the wrong seq. Such displaced entries are collected until their seqs and
 *   positions match up again (a swap closes after two) and reported as one `event-reordered`;
 * - two entries link to the same predecessor: `entry-forked`; the chain goes on from the one the
 *   following entries link to, and the other is dropped (exact duplicates of one entry, such as a
 *   retried insert, are ignored before anything else);
 * - none: a break. The row at hand is taken as the next entry (resynchronising on it: the rows
 *   after it are checked against it), as an `entry-missing` gap when its seq (or, if it was
 *   renumbered, the seq its stored entry_hash was computed for) is further on, or as
 *   `entry-modified` when it should have linked and did not. A gap followed by renumbered rows, or
 *   an insertion followed by them, is one finding whose detail names the renumbered range.
 * An entry whose stored entry_hash differs from its recomputed hash is `entry-modified`, and the
 * next entry may link to either hash without a second finding.
 *
 * Event rows: no row for the entry's (tenant, event_id) is `event-deleted`; a row whose
 * recomputed digest differs from the entry's content_digest is `event-modified`. Rows that no
 * entry records are found by the caller: `insertedEventFinding`.
 *
 * Checkpoints (in checkpoint_seq order): each signature (`checkpoint-unknown-key`,
 * `checkpoint-signature-invalid`); each previous_checkpoint_hash against the hash of the
 * checkpoint before, and its first_seq against that one's last_seq (`checkpoint-chain-broken`); a
 * gap in checkpoint_seq (`checkpoint-missing`); the Merkle root over the recomputed hashes of
 * first_seq..last_seq, and last_entry_hash (`checkpoint-root-mismatch`); a range with missing
 * entries is not compared (the gap is the finding). Entries that checkpoints cover but storage no
 * longer has, at the end, are `entry-missing`; entries past the last checkpoint stored longer ago
 * than `checkpointGraceMs` are one `checkpoint-missing` (how a deleted newest checkpoint shows). A
 * checkpoint known from another copy but absent here: `rolledBackFinding`.
 *
 * Retention: entries before the first retained checkpoint's first_seq are ignored, and the report
 * says which checkpoint verification started at (the first retained entry's prev_hash cannot be
 * checked: its predecessor is gone). Without checkpoints, entries must start at seq 0.
 */

export type StoredEntry = ChainEntry & { entry_hash: string }

/**
 * One stored entry. storedDigest: the content digest recomputed from the stored event row,
 * undefined when no row with that (tenant, event_id) exists. storedAtMs: when the entry was
 * stored; without it an entry is never judged overdue for a checkpoint.
 */
export type VerifiedItem = {
  entry: StoredEntry
  storedDigest: string | undefined
  storedAtMs?: number
  /**
   * The reader has recomputed entryHash(entry) itself and found it equal to entry.entry_hash
   * (verify has ClickHouse do it): not recomputed here. Anything else is recomputed.
   */
  hashChecked?: boolean
}

export const findingKinds = [
  'event-modified',
  'event-deleted',
  'event-inserted',
  'event-reordered',
  'entry-modified',
  'entry-missing',
  'entry-forked',
  'checkpoint-signature-invalid',
  'checkpoint-unknown-key',
  'checkpoint-root-mismatch',
  'checkpoint-chain-broken',
  'checkpoint-missing',
  'checkpoint-rolled-back',
] as const
export type FindingKind = (typeof findingKinds)[number]

export type Finding = {
  kind: FindingKind
  tenant: string
  chain: string
  seq?: number
  event_id?: string
  checkpoint_seq?: number
  detail: string
}

export type ChainReport = {
  tenant: string
  chain: string
  /** distinct stored entries checked (exact duplicates and entries before the start not counted) */
  entries: number
  /** stored checkpoints given */
  checkpoints: number
  firstVerifiedSeq: number | null
  /** checkpoint_seq verification started at when earlier checkpoints and entries are gone (retention), else null */
  startsAtCheckpoint: number | null
  findings: Finding[]
  /** findings beyond maxFindings, counted and not kept */
  findingsOmitted: number
}

export type ChainVerifierOptions = {
  tenant: string
  chain: string
  /** the chain's stored checkpoints in checkpoint_seq order */
  checkpoints: readonly SignedCheckpoint[]
  keys: PublicKeySet
  /** entries stored more than this before `nowMs` must be covered by a checkpoint */
  checkpointGraceMs: number
  nowMs: number
  /** findings kept in the report (default 1,000); more are counted in findingsOmitted */
  maxFindings?: number
  /** how far ahead (in rows) a displaced or forked entry is looked for (default 256) */
  reorderWindowEntries?: number
}

export type ChainVerifier = { add(item: VerifiedItem): void; finish(): ChainReport }

/** The finding for an event row that no chain entry records (found by the caller); chain '' when it names none. */
export function insertedEventFinding(tenant: string, eventId: string, digest: string, chain = ''): Finding {
  return {
    kind: 'event-inserted',
    tenant,
    chain,
    event_id: eventId,
    detail: `event ${eventId} (content digest ${digest}) is stored, but no chain entry records it`,
  }
}

/** The finding for a checkpoint found in another copy (`foundIn`: the checkpoint topic, an anchor) but not in storage. */
export function rolledBackFinding(checkpoint: SignedCheckpoint, foundIn: string): Finding {
  return {
    kind: 'checkpoint-rolled-back',
    tenant: checkpoint.tenant,
    chain: checkpoint.chain,
    checkpoint_seq: checkpoint.checkpoint_seq,
    seq: checkpoint.first_seq,
    detail: `checkpoint ${checkpoint.checkpoint_seq} (seq ${checkpoint.first_seq}..${checkpoint.last_seq}) is in ${foundIn} but not in storage: storage was rolled back or the checkpoint removed`,
  }
}

/**
 * A stored row waiting in the window, with its hash recomputed at its stored seq. digestAltered:
 * its content_digest is not what its entry_hash was computed over, while the stored event's digest
 * is (the entry was changed, not the event).
 */
type Row = { item: VerifiedItem; entry: StoredEntry; hash: string; digestAltered: boolean }

/** Where the chain stands: the last accepted entry's seq in the chain (which may differ from where it is stored) and hash. */
type Link = { seq: number; hash: string; storedHash: string | null }

/** An entry accepted at a seq other than the one it is stored at. */
type Displaced = { eventId: string; seq: number; storedSeq: number }

const hashPattern = /^[0-9a-f]{64}$/

/** The shift search at a break: how far a renumbered entry is recognised from its stored seq. */
const maxRenumbering = 16

export function createChainVerifier(options: ChainVerifierOptions): ChainVerifier {
  const { tenant, chain, nowMs, checkpointGraceMs } = options
  const maxFindings = options.maxFindings ?? 1000
  const window = Math.max(2, options.reorderWindowEntries ?? 256)
  const findings: Finding[] = []
  let findingsOmitted = 0
  const report = (finding: Omit<Finding, 'tenant' | 'chain'>): Finding => {
    const full = { tenant, chain, ...finding }
    if (findings.length < maxFindings) findings.push(full)
    else findingsOmitted++
    return full
  }

  const { ranges, startsAtCheckpoint, lastCheckpointSeq } = checkCheckpoints(options, report)
  const start = ranges[0]?.first_seq ?? 0
  const coveredThrough = ranges.at(-1)?.last_seq ?? -1

  // null: the first entry's link is taken on trust (its predecessor is gone with retention).
  let last: Link | null = start === 0 ? { seq: -1, hash: zeroHash, storedHash: null } : null
  let entries = 0
  let firstVerifiedSeq: number | null = null
  let finished = false
  const pending: Row[] = []

  // Exact duplicates are recognised among the rows stored at one seq (they sort together).
  let duplicateSeq = -1
  const rowsAtSeq: StoredEntry[] = []

  // The checkpoint range being collected: its leaf hashes, in seq order, until a gap spoils it.
  let rangeIndex = 0
  let leaves: Buffer[] = []
  // For entries reported modified: the hash they were stored with, tried when the root does not match.
  let storedLeaves = new Map<number, Buffer>()
  let rangeHasGap = false

  // Entries past the last checkpoint and older than the grace.
  let overdue: { first: number; last: number; oldestMs: number } | null = null

  // Displaced entries not yet matched up, the seq balance that says when they are, and the gap or
  // fork that explains them (then they are its renumbered tail, not a reorder).
  let displaced: {
    entries: Displaced[]
    count: number
    balance: Map<number, number>
    cause: Finding | null
  } | null = null
  let lastCause: Finding | null = null

  function add(item: VerifiedItem): void {
    if (finished) throw new Error('the chain verifier has finished')
    const { entry } = item
    if (entry.seq < start || isDuplicate(entry)) return
    entries++
    const hash = item.hashChecked === true ? entry.entry_hash : entryHashAt(entry, entry.seq)
    const digestAltered =
      item.storedDigest !== undefined &&
      item.storedDigest !== entry.content_digest &&
      hash !== entry.entry_hash &&
      entryHashAt({ ...entry, content_digest: item.storedDigest }, entry.seq) === entry.entry_hash
    if (item.storedDigest === undefined) {
      report({
        kind: 'event-deleted',
        seq: entry.seq,
        event_id: entry.event_id,
        detail: `entry ${entry.seq} records event ${entry.event_id}, which is no longer stored`,
      })
    } else if (item.storedDigest !== entry.content_digest && !digestAltered) {
      report({
        kind: 'event-modified',
        seq: entry.seq,
        event_id: entry.event_id,
        detail: `event ${entry.event_id} as stored has content digest ${item.storedDigest}, entry ${entry.seq} recorded ${entry.content_digest}`,
      })
    }
    pending.push({ item, entry, hash, digestAltered })
    drain(false)
  }

  function isDuplicate(entry: StoredEntry): boolean {
    if (entry.seq !== duplicateSeq) {
      duplicateSeq = entry.seq
      rowsAtSeq.length = 0
      rowsAtSeq.push(entry)
      return false
    }
    if (rowsAtSeq.some((row) => sameEntry(row, entry))) return true
    rowsAtSeq.push(entry)
    return false
  }

  function links(row: Row): boolean {
    if (last === null) return row.entry.seq === start
    return row.entry.prev_hash === last.hash || row.entry.prev_hash === last.storedHash
  }

  /**
   * Accept rows while the next entry of the chain can be told. One row of lookahead is kept so
   * that two entries claiming the same predecessor (they sort next to each other) are seen
   * together; more are waited for only when the chain does not go on from the first row.
   */
  function drain(final: boolean): void {
    while (pending.length > 0) {
      if (!final && pending.length < 2) return
      const head = pending[0] as Row
      const seq = last === null ? start : last.seq + 1
      // The common case, without allocating: the first row links, in place, and no other does.
      if (head.entry.seq === seq && links(head) && !anotherLinks()) {
        pending.shift()
        acceptInPlace(head)
        continue
      }
      const candidates = linkCandidates(seq)
      if (candidates.length === 1) {
        const [candidate] = candidates as [Candidate]
        take(candidate.row)
        accept(candidate.row, seq, candidate.hash, candidate.row.entry.entry_hash)
        continue
      }
      const waiting = !final && pending.length < window
      if (candidates.length > 1) {
        const continuing = candidates.filter((candidate) => pending.some((row) => continues(row, candidate)))
        if (continuing.length !== 1 && waiting) return
        chooseAmongForks(seq, candidates, continuing[0])
        continue
      }
      if (waiting) return
      breakAt(pending.shift() as Row, seq)
    }
  }

  function anotherLinks(): boolean {
    for (let i = 1; i < pending.length; i++) if (links(pending[i] as Row)) return true
    return false
  }

  type Candidate = { row: Row; hash: string; inPlace: boolean }

  /** Rows that link to the last entry: in place, or displaced but intact (stored hash = hash at `seq`). */
  function linkCandidates(seq: number): Candidate[] {
    const candidates: Candidate[] = []
    for (const row of pending) {
      if (!links(row)) continue
      if (row.entry.seq === seq) {
        candidates.push({ row, hash: row.hash, inPlace: true })
      } else if (last !== null) {
        const hash = entryHashAt(row.entry, seq)
        if (hash === row.entry.entry_hash) candidates.push({ row, hash, inPlace: false })
      }
    }
    return candidates
  }

  function continues(row: Row, candidate: Candidate): boolean {
    if (row === candidate.row) return false
    return row.entry.prev_hash === candidate.hash || row.entry.prev_hash === candidate.row.entry.entry_hash
  }

  function chooseAmongForks(seq: number, candidates: Candidate[], continuing: Candidate | undefined): void {
    const [first] = candidates as [Candidate, ...Candidate[]]
    const chosen = continuing ?? candidates.find((candidate) => candidate.inPlace) ?? first
    const others = candidates.filter((candidate) => candidate !== chosen)
    for (const other of others) take(other.row)
    take(chosen.row)
    const names = [chosen, ...others].map(
      (c) => `event ${c.row.entry.event_id} (stored at seq ${c.row.entry.seq})`,
    )
    lastCause = report({
      kind: 'entry-forked',
      seq,
      event_id: others[0]?.row.entry.event_id ?? chosen.row.entry.event_id,
      detail: `${candidates.length} different entries follow entry ${seq - 1}: ${names.join(', ')}; the chain goes on from event ${chosen.row.entry.event_id}${continuing === undefined ? ' (no later entry decides between them)' : ''}`,
    })
    accept(chosen.row, seq, chosen.hash, chosen.row.entry.entry_hash)
  }

  function take(row: Row): void {
    pending.splice(pending.indexOf(row), 1)
  }

  /** No row links to the last entry: resynchronise on `row`, at the seq its stored hash was made for if that is findable. */
  function breakAt(row: Row, expectedSeq: number): void {
    const { entry } = row
    let seq = entry.seq
    let hash: string | null = row.hash === entry.entry_hash ? row.hash : null
    for (let shift = 1; hash === null && shift <= maxRenumbering; shift++) {
      for (const candidateSeq of [entry.seq + shift, entry.seq - shift]) {
        if (candidateSeq < 0 || hash !== null) continue
        const candidate = entryHashAt(entry, candidateSeq)
        if (candidate === entry.entry_hash) {
          seq = candidateSeq
          hash = candidate
        }
      }
    }
    const modified = hash === null
    if (seq < expectedSeq) {
      report({
        kind: 'entry-forked',
        seq,
        event_id: entry.event_id,
        detail: `entry ${seq} recording event ${entry.event_id} (stored at seq ${entry.seq}) is a second entry at a seq the chain has already passed`,
      })
      return
    }
    const modifiedDetail = whatChanged(row)
    if (seq > expectedSeq) {
      lastCause = report({
        kind: 'entry-missing',
        seq: expectedSeq,
        detail: `entries ${expectedSeq}..${seq - 1} are missing: the next stored entry is ${seq} (event ${entry.event_id})`,
      })
      if (modified)
        report({
          kind: 'entry-modified',
          seq,
          event_id: entry.event_id,
          detail: `entry ${seq}: ${modifiedDetail}`,
        })
    } else if (last !== null) {
      const prevDetail = `its prev_hash ${entry.prev_hash} is not the hash of entry ${seq - 1}, ${last.hash}: this entry or the one before was changed`
      report({
        kind: 'entry-modified',
        seq,
        event_id: entry.event_id,
        detail: `entry ${seq}: ${modified ? `${modifiedDetail}, and ${prevDetail}` : prevDetail}`,
      })
    } else if (modified) {
      report({
        kind: 'entry-modified',
        seq,
        event_id: entry.event_id,
        detail: `entry ${seq}: ${modifiedDetail}`,
      })
    }
    accept(row, seq, hash ?? row.hash, entry.entry_hash)
  }

  function acceptInPlace(row: Row): void {
    if (row.hash !== row.entry.entry_hash) {
      report({
        kind: 'entry-modified',
        seq: row.entry.seq,
        event_id: row.entry.event_id,
        detail: `entry ${row.entry.seq}: ${whatChanged(row)}`,
      })
    }
    accept(row, row.entry.seq, row.hash, row.entry.entry_hash)
  }

  function whatChanged(row: Row): string {
    const { entry } = row
    return row.digestAltered
      ? `its content_digest was changed to ${entry.content_digest}; its entry_hash was computed over ${row.item.storedDigest}, the stored event's digest`
      : `its stored entry_hash ${entry.entry_hash} is not the hash of its fields, ${row.hash}`
  }

  /** `row` is entry `seq` of the chain, with `hash`; the next entry may link to it or to its stored hash. */
  function accept(row: Row, seq: number, hash: string, storedHash: string): void {
    last = { seq, hash, storedHash: storedHash === hash ? null : storedHash }
    firstVerifiedSeq ??= seq
    if (row.entry.seq !== seq) noteDisplaced({ eventId: row.entry.event_id, seq, storedSeq: row.entry.seq })
    else if (displaced === null) lastCause = null
    collectLeaf(seq, hash, last.storedHash)
    const storedAtMs = row.item.storedAtMs
    if (seq > coveredThrough && storedAtMs !== undefined && storedAtMs < nowMs - checkpointGraceMs) {
      if (overdue === null) overdue = { first: seq, last: seq, oldestMs: storedAtMs }
      overdue.last = seq
      overdue.oldestMs = Math.min(overdue.oldestMs, storedAtMs)
    }
  }

  function noteDisplaced(entry: Displaced): void {
    displaced ??= { entries: [], count: 0, balance: new Map(), cause: lastCause }
    displaced.count++
    if (displaced.entries.length < 4) displaced.entries.push(entry)
    const { balance } = displaced
    for (const [seq, delta] of [
      [entry.seq, 1],
      [entry.storedSeq, -1],
    ] as const) {
      const value = (balance.get(seq) ?? 0) + delta
      if (value === 0) balance.delete(seq)
      else balance.set(seq, value)
    }
    if (balance.size === 0) closeDisplaced()
  }

  /** Report the displaced entries collected: as a reorder, or as the renumbering that followed a gap or fork. */
  function closeDisplaced(): void {
    if (displaced === null) return
    const { entries: shown, count, cause } = displaced
    displaced = null
    const first = shown[0] as Displaced
    const more = count > shown.length ? `, and ${count - shown.length} more` : ''
    if (cause !== null) {
      cause.detail += `; the ${count} entries from entry ${first.seq} on are stored renumbered (entry ${first.seq} at seq ${first.storedSeq})`
      return
    }
    const [a, b] = shown
    const swapped =
      count === 2 && a !== undefined && b !== undefined && a.seq === b.storedSeq && b.seq === a.storedSeq
    report({
      kind: 'event-reordered',
      seq: Math.min(...shown.map((entry) => entry.seq)),
      event_id: first.eventId,
      detail: swapped
        ? `event ${a.eventId} (entry ${a.seq}) and event ${b.eventId} (entry ${b.seq}) exchanged positions: they are stored at seq ${a.storedSeq} and ${b.storedSeq}`
        : `entries are stored out of order: ${shown.map((entry) => `event ${entry.eventId} (entry ${entry.seq}) is stored at seq ${entry.storedSeq}`).join('; ')}${more}`,
    })
  }

  function collectLeaf(seq: number, hash: string, storedHash: string | null): void {
    while (rangeIndex < ranges.length && seq > (ranges[rangeIndex] as SignedCheckpoint).last_seq)
      finishRange()
    const range = ranges[rangeIndex]
    if (range === undefined || seq < range.first_seq) return
    if (seq !== range.first_seq + leaves.length) rangeHasGap = true
    if (!rangeHasGap) {
      if (storedHash !== null && hashPattern.test(storedHash))
        storedLeaves.set(leaves.length, Buffer.from(storedHash, 'hex'))
      leaves.push(Buffer.from(hash, 'hex'))
    }
    if (seq === range.last_seq) finishRange()
  }

  function finishRange(): void {
    const range = ranges[rangeIndex++] as SignedCheckpoint
    const complete = !rangeHasGap && leaves.length === range.last_seq - range.first_seq + 1
    if (complete) {
      let root = merkleRoot(leaves).toString('hex')
      let lastHash = (leaves.at(-1) as Buffer).toString('hex')
      if ((root !== range.merkle_root || lastHash !== range.last_entry_hash) && storedLeaves.size > 0) {
        // Entries already reported modified: when their stored hashes give the signed root, the
        // checkpoint confirms those findings rather than adding one of its own.
        for (const [index, stored] of storedLeaves) leaves[index] = stored
        root = merkleRoot(leaves).toString('hex')
        lastHash = (leaves.at(-1) as Buffer).toString('hex')
      }
      if (root !== range.merkle_root || lastHash !== range.last_entry_hash) {
        report({
          kind: 'checkpoint-root-mismatch',
          checkpoint_seq: range.checkpoint_seq,
          seq: range.first_seq,
          detail:
            root !== range.merkle_root
              ? `checkpoint ${range.checkpoint_seq} signs merkle_root ${range.merkle_root} over entries ${range.first_seq}..${range.last_seq}; the stored entries give ${root}`
              : `checkpoint ${range.checkpoint_seq} signs last_entry_hash ${range.last_entry_hash}; the stored entry ${range.last_seq} hashes to ${lastHash}`,
        })
      }
    }
    leaves = []
    storedLeaves = new Map()
    rangeHasGap = false
  }

  function finish(): ChainReport {
    if (finished) throw new Error('the chain verifier has finished')
    drain(true)
    finished = true
    closeDisplaced()
    const nextSeq = last === null ? start : last.seq + 1
    if (coveredThrough >= nextSeq) {
      report({
        kind: 'entry-missing',
        seq: nextSeq,
        detail: `entries ${nextSeq}..${coveredThrough} are missing: checkpoints cover up to ${coveredThrough}, the stored entries end ${last === null ? 'before them' : `at ${last.seq}`}`,
      })
    }
    while (rangeIndex < ranges.length) finishRange()
    const late = overdue
    if (late !== null) {
      report({
        kind: 'checkpoint-missing',
        seq: late.first,
        checkpoint_seq: lastCheckpointSeq + 1,
        detail: `entries ${late.first}..${late.last} are covered by no checkpoint, and the oldest was stored at ${new Date(late.oldestMs).toISOString()}, more than ${checkpointGraceMs} ms ago: a newer checkpoint is missing or was never written`,
      })
    }
    return {
      tenant,
      chain,
      entries,
      checkpoints: options.checkpoints.length,
      firstVerifiedSeq,
      startsAtCheckpoint,
      findings,
      findingsOmitted,
    }
  }

  return { add, finish }
}

/**
 * The checks of the checkpoints among themselves (signatures, links, gaps), and the ranges whose
 * roots are then checked against the entries: those of this chain, in order, not overlapping.
 */
function checkCheckpoints(
  options: ChainVerifierOptions,
  report: (finding: Omit<Finding, 'tenant' | 'chain'>) => Finding,
): { ranges: SignedCheckpoint[]; startsAtCheckpoint: number | null; lastCheckpointSeq: number } {
  const ranges: SignedCheckpoint[] = []
  let previous: SignedCheckpoint | null = null
  let previousReported = false
  let startsAtCheckpoint: number | null = null
  for (const checkpoint of options.checkpoints) {
    const n = checkpoint.checkpoint_seq
    const broken = (detail: string) => report({ kind: 'checkpoint-chain-broken', checkpoint_seq: n, detail })
    if (checkpoint.tenant !== options.tenant || checkpoint.chain !== options.chain) {
      broken(
        `checkpoint ${n} is of ${checkpoint.tenant} ${checkpoint.chain}, stored with ${options.tenant} ${options.chain}`,
      )
      continue
    }
    const signature = verifyCheckpointSignature(checkpoint, options.keys)
    if (signature === 'unknown-key') {
      report({
        kind: 'checkpoint-unknown-key',
        checkpoint_seq: n,
        detail: `checkpoint ${n} is signed by ${checkpoint.key_id}, which is not among the trusted keys`,
      })
    } else if (signature === 'invalid') {
      report({
        kind: 'checkpoint-signature-invalid',
        checkpoint_seq: n,
        detail: `checkpoint ${n}'s signature does not verify with ${checkpoint.key_id}: the checkpoint was changed or not signed by that key`,
      })
    }
    if (previous === null) {
      if (n === 0 && (checkpoint.previous_checkpoint_hash !== zeroHash || checkpoint.first_seq !== 0)) {
        broken(`checkpoint 0 must start the chain: first_seq 0 and previous_checkpoint_hash ${zeroHash}`)
      } else if (n > 0) {
        startsAtCheckpoint = n
      }
    } else if (n <= previous.checkpoint_seq) {
      broken(`checkpoint ${n} comes after checkpoint ${previous.checkpoint_seq}: a duplicate or out of order`)
      continue
    } else if (n > previous.checkpoint_seq + 1) {
      report({
        kind: 'checkpoint-missing',
        checkpoint_seq: previous.checkpoint_seq + 1,
        seq: previous.last_seq + 1,
        detail: `checkpoints ${previous.checkpoint_seq + 1}..${n - 1} are missing between checkpoint ${previous.checkpoint_seq} and ${n}`,
      })
    } else if (!previousReported && checkpoint.previous_checkpoint_hash !== checkpointHash(previous)) {
      // (Not checked after a checkpoint already reported for its signature: its hash is not to be trusted, and a
      // changed signature changes it, so the link would only repeat that finding.)
      broken(
        `checkpoint ${n}'s previous_checkpoint_hash ${checkpoint.previous_checkpoint_hash} is not the hash of checkpoint ${previous.checkpoint_seq}, ${checkpointHash(previous)}`,
      )
    } else if (checkpoint.first_seq !== previous.last_seq + 1) {
      broken(
        `checkpoint ${n} starts at seq ${checkpoint.first_seq}, but checkpoint ${previous.checkpoint_seq} ended at ${previous.last_seq}`,
      )
    }
    const lastRange = ranges.at(-1)
    if (!Number.isSafeInteger(checkpoint.first_seq) || !(checkpoint.last_seq >= checkpoint.first_seq)) {
      broken(`checkpoint ${n} covers no entries (seq ${checkpoint.first_seq}..${checkpoint.last_seq})`)
    } else if (lastRange !== undefined && checkpoint.first_seq <= lastRange.last_seq) {
      broken(
        `checkpoint ${n} (seq ${checkpoint.first_seq}..${checkpoint.last_seq}) overlaps checkpoint ${lastRange.checkpoint_seq} (..${lastRange.last_seq})`,
      )
    } else {
      ranges.push(checkpoint)
    }
    previous = checkpoint
    previousReported = signature !== 'valid'
  }
  return { ranges, startsAtCheckpoint, lastCheckpointSeq: previous?.checkpoint_seq ?? -1 }
}

function sameEntry(a: StoredEntry, b: StoredEntry): boolean {
  return (
    a.seq === b.seq &&
    a.event_id === b.event_id &&
    a.content_digest === b.content_digest &&
    a.occurred_at === b.occurred_at &&
    a.category === b.category &&
    a.prev_hash === b.prev_hash &&
    a.entry_hash === b.entry_hash &&
    a.tenant === b.tenant &&
    a.chain === b.chain
  )
}
