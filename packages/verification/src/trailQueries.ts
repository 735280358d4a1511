import {
  auditTables,
  integrityTables,
  storedCheckpointSelect,
  storedEventSelect,
} from '@audit-pipeline/clickhouse-schema'
import {
  canonicalEventTextSql,
  canonicalTextAlias,
  contentDigestSql,
  jsonSettings,
} from './contentDigestSql.js'
import { chainEntrySelect } from './storedRows.js'

/**
 * The statements verification reads the trail with, as text and parameters. Pure.
 *
 * Filters run in a subquery over the table itself, where every name is a column: the select
 * lists give converted columns names of their own, and this keeps it so whatever they become.
 */
export type Statement = { query: string; params: Record<string, unknown> }

export type TrailTables = { events: string; chain: string; checkpoints: string }

/** The tables the trail is read from, unqualified. */
export const trailTableNames = [
  auditTables.events,
  integrityTables.chain,
  integrityTables.checkpoints,
] as const

export function trailTables(database: string): TrailTables {
  const table = (name: string) => `\`${database}\`.\`${name}\``
  return {
    events: table(auditTables.events),
    chain: table(integrityTables.chain),
    checkpoints: table(integrityTables.checkpoints),
  }
}

const msTime = (param: string) => `fromUnixTimestamp64Milli({${param}:Int64}, 'UTC')`

/** Settings of a page query (`max_threads = 1`): SQL text, so both transports apply them the same way. */
export type PageSettings = readonly string[]

const native = (settings: PageSettings) =>
  `${settings.length === 0 ? '' : ` SETTINGS ${settings.join(', ')}`} FORMAT Native`

/** Every tenant with anything in the trail. */
export function tenantsStatement(t: TrailTables): Statement {
  return {
    query: `SELECT tenant FROM (
  SELECT DISTINCT tenant FROM ${t.chain}
  UNION DISTINCT SELECT DISTINCT tenant FROM ${t.events}
  UNION DISTINCT SELECT DISTINCT tenant FROM ${t.checkpoints}
) ORDER BY tenant`,
    params: {},
  }
}

/** Per chain of the tenant: the highest checkpoint_seq stored now. Read first: see verifyTrail. */
export function checkpointBoundsStatement(t: TrailTables, tenant: string): Statement {
  return {
    query: `SELECT chain, toString(max(checkpoint_seq)) AS checkpoint_seq FROM ${t.checkpoints}
WHERE tenant = {tenant:String} GROUP BY chain`,
    params: { tenant },
  }
}

export type ChainSummaryRow = {
  chain: string
  first_seq: string
  last_seq: string
  entries: string
  last_seq_before_until?: string
  entries_before_until?: string
}

/** Per chain of the tenant: the seqs stored, and with `untilMs` the last one stored before it. */
export function chainSummaryStatement(t: TrailTables, tenant: string, untilMs?: number): Statement {
  const until =
    untilMs === undefined
      ? ''
      : `,
       toString(maxIf(seq, stored_at < ${msTime('untilMs')})) AS last_seq_before_until,
       toString(countIf(stored_at < ${msTime('untilMs')})) AS entries_before_until`
  return {
    query: `SELECT chain, toString(min(seq)) AS first_seq, toString(max(seq)) AS last_seq, toString(count()) AS entries${until}
FROM ${t.chain} WHERE tenant = {tenant:String} GROUP BY chain`,
    params: { tenant, ...(untilMs !== undefined && { untilMs }) },
  }
}

/** A chain's distinct stored checkpoints up to `maxCheckpointSeq` (any order: sorted by the reader). */
export function checkpointsStatement(
  t: TrailTables,
  tenant: string,
  chain: string,
  maxCheckpointSeq: number,
): Statement {
  return {
    query: `SELECT DISTINCT ${storedCheckpointSelect} FROM (
  SELECT * FROM ${t.checkpoints}
  WHERE tenant = {tenant:String} AND chain = {chain:String} AND checkpoint_seq <= {max:UInt64}
)`,
    params: { tenant, chain, max: maxCheckpointSeq },
  }
}

/** The lowest occurred_at among a chain's entries in a seq range, ms (null when none). */
export function earliestOccurrenceStatement(
  t: TrailTables,
  tenant: string,
  chain: string,
  fromSeq: number,
  toSeq: number,
): Statement {
  return {
    query: `SELECT if(count() = 0, NULL, toString(min(toUnixTimestamp64Milli(occurred_at)))) AS ms FROM ${t.chain}
WHERE tenant = {tenant:String} AND chain = {chain:String} AND seq >= {from:UInt64} AND seq <= {to:UInt64}`,
    params: { tenant, chain, from: fromSeq, to: toSeq },
  }
}

const eventsFrom = (fromMs: number | undefined) =>
  fromMs === undefined ? '' : ` AND occurred_at >= ${msTime('fromMs')}`

/** Distinct stored events of the tenant, from `fromMs` on. */
export function eventCountStatement(t: TrailTables, tenant: string, fromMs?: number): Statement {
  return {
    query: `SELECT toString(uniqExact(event_id)) AS events FROM ${t.events} WHERE tenant = {tenant:String}${eventsFrom(fromMs)}`,
    params: { tenant, ...(fromMs !== undefined && { fromMs }) },
  }
}

/** A row of eventMismatchStatement: `from_events` 1 for a stored row, 0 for an entry. */
export type MismatchRow = { id: string; from_events: number }

/**
 * Every (event id, content digest) on one side only: stored events (from `fromMs` on, each
 * digested by ClickHouse, contentDigestSql) against the tenant's chain entries (for events from
 * `fromMs` on), joined on both. Whatever matches is an event stored exactly as its entry records
 * it and is not read at all; what is left is a stored row that differs from every entry of its
 * id, is recorded by none, or that SQL does not write exactly (read whole and digested in
 * JavaScript), and an entry whose event no row holds. Intact, the answer is empty.
 */
export function eventMismatchStatement(t: TrailTables, tenant: string, fromMs?: number): Statement {
  return {
    query: `SELECT DISTINCT toString(event_id) AS id, stored AS from_events
FROM (
  WITH ${canonicalEventTextSql} AS ${canonicalTextAlias}
  SELECT event_id, ${contentDigestSql} AS digest, toUInt8(1) AS stored
  FROM (SELECT * FROM ${t.events} WHERE tenant = {tenant:String}${eventsFrom(fromMs)})
) AS e
FULL OUTER JOIN (
  SELECT event_id, content_digest AS digest, toUInt8(1) AS recorded
  FROM ${t.chain} WHERE tenant = {tenant:String}${eventsFrom(fromMs)}
) AS c USING (event_id, digest)
WHERE stored = 0 OR recorded = 0${native(jsonSettings)}`,
    params: { tenant, ...(fromMs !== undefined && { fromMs }) },
  }
}

/** The tenant's stored rows of these event ids, whole (storedEventSelect), Native. */
export function eventsByIdStatement(t: TrailTables, tenant: string, ids: readonly string[]): Statement {
  return {
    query: `SELECT ${storedEventSelect} FROM (
  SELECT * FROM ${t.events} WHERE tenant = {tenant:String} AND event_id IN {ids:Array(UUID)}
)${native([])}`,
    params: { tenant, ids },
  }
}

/** A chain's entries with fromSeq ≤ seq ≤ toSeq, in seq order, Native. */
export function chainPageStatement(
  t: TrailTables,
  tenant: string,
  chain: string,
  fromSeq: number,
  toSeq: number,
  settings: PageSettings = [],
): Statement {
  return {
    query: `SELECT ${chainEntrySelect} FROM (
  SELECT * FROM ${t.chain}
  WHERE tenant = {tenant:String} AND chain = {chain:String} AND seq >= {from:UInt64} AND seq <= {to:UInt64}
) ORDER BY seq${native([...settings, ...jsonSettings])}`,
    params: { tenant, chain, from: fromSeq, to: toSeq },
  }
}

/** Which of these event ids the tenant's chains record, at any seq. */
export function chainedIdsStatement(t: TrailTables, tenant: string, ids: readonly string[]): Statement {
  return {
    query: `SELECT DISTINCT toString(event_id) AS id FROM ${t.chain}
WHERE tenant = {tenant:String} AND event_id IN {ids:Array(UUID)}`,
    params: { tenant, ids },
  }
}

/** An entry as entriesOfEventStatement reads it (JSONEachRow: numbers as text). */
export type EntryOfEventRow = Record<
  | 'tenant'
  | 'chain'
  | 'seq'
  | 'event_id'
  | 'content_digest'
  | 'prev_hash'
  | 'entry_hash'
  | 'occurred_at'
  | 'category'
  | 'stored_at',
  string
>

/** The entries recording an event id, in one tenant or any. */
export function entriesOfEventStatement(t: TrailTables, eventId: string, tenant?: string): Statement {
  return {
    query: `SELECT tenant, chain, toString(seq) AS seq, toString(event_id) AS event_id, content_digest, prev_hash, entry_hash,
       toString(toUnixTimestamp64Milli(occurred_at)) AS occurred_at, category, toString(toUnixTimestamp64Milli(stored_at)) AS stored_at
FROM (
  SELECT * FROM ${t.chain}
  WHERE event_id = {id:UUID}${tenant === undefined ? '' : ' AND tenant = {tenant:String}'}
)`,
    params: { id: eventId, ...(tenant !== undefined && { tenant }) },
  }
}

/** The stored rows of an event (identical copies once), JSONEachRow for eventOfStoredRow. */
export function storedEventStatement(t: TrailTables, eventId: string, tenant?: string): Statement {
  return {
    query: `SELECT DISTINCT ${storedEventSelect} FROM (
  SELECT * FROM ${t.events}
  WHERE event_id = {id:UUID}${tenant === undefined ? '' : ' AND tenant = {tenant:String}'}
)`,
    params: { id: eventId, ...(tenant !== undefined && { tenant }) },
  }
}

/** The stored checkpoints of a chain whose range holds `seq`. */
export function coveringCheckpointsStatement(
  t: TrailTables,
  tenant: string,
  chain: string,
  seq: number,
): Statement {
  return {
    query: `SELECT DISTINCT ${storedCheckpointSelect} FROM (
  SELECT * FROM ${t.checkpoints}
  WHERE tenant = {tenant:String} AND chain = {chain:String} AND first_seq <= {seq:UInt64} AND last_seq >= {seq:UInt64}
)`,
    params: { tenant, chain, seq },
  }
}
