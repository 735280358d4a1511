import { longestRetention, type RetentionPolicy } from '@audit-pipeline/clickhouse-schema'
import {
  insertedEventFinding,
  type Finding,
  type PublicKeySet,
  type SignedCheckpoint,
} from '@audit-pipeline/integrity'
import type { Storage } from '@audit-pipeline/storage'
import { asRecorded, type ChainVerification } from './chainCheck.js'
import { eventIdsOfPage, mismatchesOfPage } from './chainPages.js'
import { planChain, type ChainPlan } from './chainPlan.js'
import { chainKey, checkpointsByChain, rolledBackFindings } from './rolledBack.js'
import { mapConcurrently, taskWindow } from './taskWindow.js'
import { allFindings, type TrailReport } from './trailReport.js'
import {
  chainedIdsStatement,
  chainPageStatement,
  chainSummaryStatement,
  checkpointBoundsStatement,
  checkpointsStatement,
  earliestOccurrenceStatement,
  eventCountStatement,
  eventMismatchStatement,
  eventsByIdStatement,
  tenantsStatement,
  trailTables,
  type ChainSummaryRow,
  type PageSettings,
  type TrailTables,
} from './trailQueries.js'
import { assertTrailTables, queryBytes, queryCheckpoints, queryRows } from './trailStore.js'
import { createVerifyExecutor, type VerifyExecutor } from './verifyExecutor.js'

export type VerifyProgress = {
  tenant: string
  /** `events`: reading and digesting stored events; `entries`: checking the chains. */
  phase: 'events' | 'entries'
  done: number
  total: number
}

export type VerifyTrailOptions = {
  storage: Storage
  /** The database holding the trail's tables. */
  database: string
  /** One tenant; default: every tenant in the trail. */
  tenant?: string
  /** Verify each chain from the first checkpoint made at or after this time. */
  since?: Date
  /** Verify each chain up to the last entry stored before this time. */
  until?: Date
  /** The trusted public keys (the published document, parsePublicKeys). */
  keys: PublicKeySet
  /** What retention removes when (parseRetentionPolicy): an entry whose event it removed is expired, not deleted. */
  retention: RetentionPolicy
  nowMs: number
  /** Entries stored longer ago than this must be covered by a checkpoint (the sink signs one every SINK_CHECKPOINT_INTERVAL_MS). */
  checkpointGraceMs: number
  /** Checkpoints from another copy (readCheckpointTopic): each must be stored as it is there. */
  externalCheckpoints?: readonly SignedCheckpoint[]
  /** What findings call that copy (default: the checkpoints topic). */
  externalSource?: string
  onProgress?: (progress: VerifyProgress) => void
  /** Worker threads checking chains (default none: see createVerifyExecutor). */
  threads?: number
  /** The compiled worker script (default: the one beside this module). */
  workerScript?: URL
  /** Entries per page of a chain (default 65,536). */
  entriesPerPage?: number
}

/** Inserted events kept as findings per tenant (as integrity keeps 1,000 per chain); more are counted. */
const maxInsertedFindings = 1_000

/** Event ids per look-up of leftover events: ClickHouse's 1 MiB query limit holds 2,000 UUIDs with room. */
const idsPerLookup = 2_000

/**
 * Reads the trail back from ClickHouse and checks all of it: every stored event's content digest
 * recomputed, every chain's entries and checkpoints through the chain verifier
 * (packages/integrity), every stored event recorded by an entry, and, given another copy of the
 * checkpoints, that storage holds each of them.
 *
 * Per tenant, in this order (what is read first bounds what is read after, so a sink writing
 * meanwhile cannot make an intact trail look broken): the highest checkpoint of each chain; the
 * seqs of each chain's entries; the stored events against the entries, compared by ClickHouse on
 * (event id, content digest) with the digests computed in SQL (contentDigestSql), so that only
 * what differs is read, whole, and digested here; then each chain (two or more at a time) from its
 * start to the highest seq read, with the checkpoints up to the highest read, each entry given
 * what was found of its event. Stored events no entry in the range recorded are looked up once
 * more among all entries (an entry outside the range, or written meanwhile) and the rest reported
 * `event-inserted`. Memory: the ids (and digests) of what differs, a few pages of entries, and one
 * chain's checkpoints per chain being checked; ClickHouse holds the join (the entries' ids and
 * digests, about 100 bytes per entry).
 */
export async function verifyTrail(options: VerifyTrailOptions): Promise<TrailReport> {
  const started = performance.now()
  const tables = trailTables(options.database)
  await assertTrailTables(options.storage, options.database)
  const wanted = (checkpoint: SignedCheckpoint) =>
    options.tenant === undefined || checkpoint.tenant === options.tenant
  const external = checkpointsByChain((options.externalCheckpoints ?? []).filter(wanted))
  const tenants =
    options.tenant !== undefined
      ? [options.tenant]
      : [
          ...new Set([
            ...(await queryRows<{ tenant: string }>(options.storage, tenantsStatement(tables))).map(
              (r) => r.tenant,
            ),
            ...[...external.values()].map((list) => (list[0] as SignedCheckpoint).tenant),
          ]),
        ].sort()
  const executor = createVerifyExecutor({
    ...(options.threads !== undefined && { threads: options.threads }),
    ...(options.workerScript !== undefined && { workerScript: options.workerScript }),
  })
  try {
    const results = []
    // Embedded ClickHouse runs on the cores the chain checks are busy on: one thread per page of
    // entries does better than several (measured: 290,000 events/s against 256,000–281,000), and
    // pages are read two at a time. The comparison of events with entries takes every core.
    const pageSettings = options.storage.describe().transport === 'embedded' ? ['max_threads = 1'] : []
    for (const tenant of tenants) {
      results.push(await verifyTenant({ options, tables, external, executor, pageSettings }, tenant))
    }
    const chains = results.flatMap((result) => result.chains)
    const inserted = results.flatMap((result) => result.inserted)
    const rolledBack = results.flatMap((result) => result.rolledBack)
    const events = results.reduce((sum, result) => sum + result.events, 0)
    const findingsOmitted =
      chains.reduce((sum, chain) => sum + chain.findingsOmitted, 0) +
      results.reduce((sum, result) => sum + result.insertedOmitted, 0)
    const findings = allFindings({ chains, inserted, rolledBack }).length
    const seconds = (performance.now() - started) / 1000
    const sum = (field: 'entries' | 'checkpoints' | 'expired') =>
      chains.reduce((total, chain) => total + chain[field], 0)
    const fromTimes = results.map((result) => result.eventsFromMs).filter((ms) => ms !== undefined)
    return {
      verifiedAt: new Date(options.nowMs).toISOString(),
      range: { since: options.since?.toISOString() ?? null, until: options.until?.toISOString() ?? null },
      tenants,
      chains,
      inserted,
      rolledBack,
      checkpointsCompared:
        options.externalCheckpoints === undefined
          ? null
          : [...external.values()].reduce((total, list) => total + list.length, 0),
      eventsFrom: fromTimes.length === 0 ? null : new Date(Math.min(...fromTimes)).toISOString(),
      totals: {
        tenants: tenants.length,
        chains: chains.length,
        entries: sum('entries'),
        events,
        checkpoints: sum('checkpoints'),
        expired: sum('expired'),
        findings,
        findingsOmitted,
        threads: executor.threads,
        seconds,
        eventsPerSecond: seconds > 0 ? Math.round(events / seconds) : 0,
      },
      intact: findings === 0 && findingsOmitted === 0,
    }
  } finally {
    await executor.close()
  }
}

type Context = {
  options: VerifyTrailOptions
  tables: TrailTables
  external: Map<string, SignedCheckpoint[]>
  executor: VerifyExecutor
  pageSettings: PageSettings
}

type TenantResult = {
  chains: ChainVerification[]
  inserted: Finding[]
  /** Inserted events past maxInsertedFindings: counted, not kept. */
  insertedOmitted: number
  rolledBack: Finding[]
  events: number
  eventsFromMs: number | undefined
}

async function verifyTenant(context: Context, tenant: string): Promise<TenantResult> {
  const { options, tables, external, executor } = context
  const { storage } = options
  const integrityRetention = longestRetention(options.retention)
  const untilMs = options.until?.getTime()
  const sinceMs = options.since?.getTime()

  // 1. The highest checkpoint of each chain, then 2. the seqs of each chain's entries: every
  // checkpoint read covers entries stored before it, so no given checkpoint reaches past them.
  const bounds = new Map(
    (
      await queryRows<{ chain: string; checkpoint_seq: string }>(
        storage,
        checkpointBoundsStatement(tables, tenant),
      )
    ).map((row) => [row.chain, Number(row.checkpoint_seq)]),
  )
  const summaries = new Map(
    (await queryRows<ChainSummaryRow>(storage, chainSummaryStatement(tables, tenant, untilMs))).map((row) => [
      row.chain,
      row,
    ]),
  )
  const externalChains = [...external.entries()]
    .filter(([key]) => key.startsWith(chainKey(tenant, '')))
    .map(([, list]) => (list[0] as SignedCheckpoint).chain)
  const chains = [...new Set([...bounds.keys(), ...summaries.keys(), ...externalChains])].sort()

  const planOf = async (chain: string): Promise<{ plan: ChainPlan; stored: SignedCheckpoint[] }> => {
    const bound = bounds.get(chain)
    const stored =
      bound === undefined
        ? []
        : await queryCheckpoints(storage, checkpointsStatement(tables, tenant, chain, bound))
    const summary = summaries.get(chain)
    const plan = planChain({
      tenant,
      chain,
      stored: summary ? { firstSeq: Number(summary.first_seq), lastSeq: Number(summary.last_seq) } : null,
      ...(untilMs !== undefined && {
        lastSeqBeforeUntil:
          summary && Number(summary.entries_before_until) > 0 ? Number(summary.last_seq_before_until) : null,
      }),
      checkpoints: stored,
      ...(sinceMs !== undefined && { sinceMs }),
      nowMs: options.nowMs,
      checkpointGraceMs: options.checkpointGraceMs,
      integrityRetention,
    })
    return { plan, stored }
  }

  // With --since, only events an entry in the range can record are read: from the earliest such
  // entry's occurred_at (a plan is cheap to make twice; the checkpoints are not kept meanwhile).
  let eventsFromMs: number | undefined
  if (sinceMs !== undefined) {
    let earliest = sinceMs
    for (const chain of chains) {
      const { plan } = await planOf(chain)
      if (plan.toSeq < plan.fromSeq) continue
      const [row] = await queryRows<{ ms: string | null }>(
        storage,
        earliestOccurrenceStatement(tables, tenant, chain, plan.fromSeq, plan.toSeq),
      )
      if (row?.ms != null) earliest = Math.min(earliest, Number(row.ms))
    }
    eventsFromMs = earliest
  }

  // 3. The tenant's stored events against what its entries record, compared by ClickHouse.
  const compared = await compareEvents(context, tenant, eventsFromMs)

  // 4. Each chain, with what differs from its entries.
  const entriesTotal = [...summaries.values()].reduce(
    (sum, row) => sum + Number(untilMs === undefined ? row.entries : row.entries_before_until),
    0,
  )
  let entriesDone = 0
  const progress = (rows: number) => {
    entriesDone += rows
    options.onProgress?.({ tenant, phase: 'entries', done: entriesDone, total: entriesTotal })
  }
  const rolledBack: Finding[] = []
  const verified = await mapConcurrently(chains, Math.max(2, executor.threads), async (chain) => {
    const { plan, stored } = await planOf(chain)
    rolledBack.push(
      ...rolledBackFindings({
        external: external.get(chainKey(tenant, chain)) ?? [],
        stored,
        foundIn: options.externalSource ?? 'the checkpoints topic',
        nowMs: options.nowMs,
        integrityRetention,
      }),
    )
    const summary = summaries.get(chain)
    if (summary === undefined && stored.length === 0) return undefined // only in the other copy
    return checkChain(context, plan, compared, progress)
  })

  // 5. Stored events no entry in the range recorded: one more look among all entries (one outside
  // the range, or written meanwhile), then inserted.
  const inserted: Finding[] = []
  let insertedOmitted = 0
  const unclaimed = [...compared.differing.keys()].filter((id) => !compared.claimed.has(id))
  for (let start = 0; start < unclaimed.length; start += idsPerLookup) {
    const batch = unclaimed.slice(start, start + idsPerLookup)
    const chained = new Set(
      (await queryRows<{ id: string }>(storage, chainedIdsStatement(tables, tenant, batch))).map(
        (row) => row.id,
      ),
    )
    for (const id of batch) {
      if (chained.has(id)) continue
      if (inserted.length < maxInsertedFindings)
        inserted.push(insertedEventFinding(tenant, id, (compared.differing.get(id) ?? []).join(' and ')))
      else insertedOmitted++
    }
  }
  return {
    chains: verified.filter((chain) => chain !== undefined),
    inserted,
    insertedOmitted,
    // Found as chains finished, which is in no particular order.
    rolledBack: rolledBack.sort(
      (a, b) => a.chain.localeCompare(b.chain) || (a.checkpoint_seq ?? 0) - (b.checkpoint_seq ?? 0),
    ),
    events: compared.events,
    eventsFromMs,
  }
}

/**
 * What ClickHouse found differing between the tenant's stored events and its entries
 * (eventMismatchStatement), made exact: each stored event it names is read whole and digested here.
 */
type ComparedEvents = {
  /** Distinct stored events compared. */
  events: number
  /** Every digest stored under each event id ClickHouse named on the events' side. */
  differing: Map<string, string[]>
  /** Event ids entries record that no stored row holds. */
  absent: Set<string>
  /** Of `differing`, the ids an entry in a verified range recorded. */
  claimed: Set<string>
}

async function compareEvents(
  context: Context,
  tenant: string,
  fromMs: number | undefined,
): Promise<ComparedEvents> {
  const { options, tables, executor } = context
  const { storage } = options
  const [count] = await queryRows<{ events: string }>(storage, eventCountStatement(tables, tenant, fromMs))
  const events = Number(count?.events ?? 0)
  options.onProgress?.({ tenant, phase: 'events', done: 0, total: events })
  const mismatches = mismatchesOfPage(
    await queryBytes(storage, eventMismatchStatement(tables, tenant, fromMs)),
  )
  const stored = new Set(mismatches.filter((row) => row.fromEvents).map((row) => row.id))
  const absent = new Set(
    mismatches.filter((row) => !row.fromEvents && !stored.has(row.id)).map((row) => row.id),
  )
  const differing = new Map<string, string[]>()
  const ids = [...stored]
  for (let start = 0; start < ids.length; start += idsPerLookup) {
    const bytes = await queryBytes(
      storage,
      eventsByIdStatement(tables, tenant, ids.slice(start, start + idsPerLookup)),
    )
    const digested = await executor.digest(bytes)
    digested.ids.forEach((id, i) => {
      const digest = digested.digests[i] as string
      const held = differing.get(id)
      if (held === undefined) differing.set(id, [digest])
      else if (!held.includes(digest)) held.push(digest)
    })
  }
  options.onProgress?.({ tenant, phase: 'events', done: events, total: events })
  return { events, differing, absent, claimed: new Set() }
}

async function checkChain(
  context: Context,
  plan: ChainPlan,
  compared: ComparedEvents,
  progress: (rows: number) => void,
): Promise<ChainVerification> {
  const { options, tables, executor } = context
  const { tenant, chain } = plan
  const perPage = options.entriesPerPage ?? 65_536
  const task = executor.openChain({
    plan,
    keys: options.keys,
    retention: options.retention,
    nowMs: options.nowMs,
    checkpointGraceMs: options.checkpointGraceMs,
  })
  const window = taskWindow(2)
  for (let from = plan.fromSeq; from <= plan.toSeq; from += perPage) {
    const to = Math.min(plan.toSeq, from + perPage - 1)
    const bytes = await queryBytes(
      options.storage,
      chainPageStatement(tables, tenant, chain, from, to, context.pageSettings),
    )
    // Intact, ClickHouse found nothing differing, and the rows are decoded only where checked.
    const digests =
      compared.absent.size === 0 && compared.differing.size === 0
        ? null
        : eventIdsOfPage(bytes).map((id) => {
            if (compared.absent.has(id)) return undefined
            const differing = compared.differing.get(id)
            if (differing === undefined) return asRecorded
            compared.claimed.add(id)
            return differing
          })
    await window.add(task.add(bytes, digests).then(() => progress(to - from + 1)))
  }
  await window.drain()
  return task.finish()
}
