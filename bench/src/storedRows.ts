import { setTimeout as sleep } from 'node:timers/promises'
import type { Storage } from '@audit-pipeline/storage'

export type RowsReached = {
  /** When the reader was first seen reading (`reading`), ms after `since`. */
  firstReadMs: number
  /** When rows were first visible, ms after `since`, and how many there were then. */
  firstRowsMs: number
  firstRows: number
  /** Rows at the end: `expected`, or more with `atLeast`. */
  rows: number
}

/** Rows in `table` (qualified), as a query sees them now. */
export async function countRows(storage: Storage, table: string): Promise<number> {
  const [row] = await storage.client
    .query({ query: `SELECT count() AS rows FROM ${table}`, format: 'JSONEachRow' })
    .then((result) => result.json<{ rows: string }>())
  return Number(row?.rows ?? 0)
}

/**
 * Resolves once `table` holds `expected` rows (with `atLeast`, that many or more), counting
 * every `pollMs`: the moment the last event is queryable. Throws when the count has not moved
 * for `stallMs`, or passed `expected`, with what `diagnose` says, rather than hang. `reading`
 * says whether the reader has read any message yet, to tell its start-up from its work.
 */
export async function waitForRows(
  storage: Storage,
  table: string,
  expected: number,
  options: {
    pollMs?: number
    stallMs?: number
    atLeast?: boolean
    reading?: () => Promise<boolean>
    diagnose?: () => Promise<string | undefined>
    /** What the times are measured from (performance.now()); default the call. */
    since?: number
  } = {},
): Promise<RowsReached> {
  const { pollMs = 100, stallMs = 60_000, atLeast = false, reading, diagnose } = options
  const started = options.since ?? performance.now()
  let firstReadMs: number | undefined
  let first: { firstRowsMs: number; firstRows: number } | undefined
  let last = -1
  let lastMovedAt = started
  for (;;) {
    const polledAt = performance.now()
    const rows = await countRows(storage, table)
    if (firstReadMs === undefined && (rows > 0 || (await reading?.()))) firstReadMs = polledAt - started
    if (rows > 0 && !first) first = { firstRowsMs: polledAt - started, firstRows: rows }
    if (first && (rows === expected || (atLeast && rows > expected))) {
      return { ...first, firstReadMs: firstReadMs ?? first.firstRowsMs, rows }
    }
    if (rows > expected) throw new Error(`${table} holds ${rows} rows, more than the ${expected} written`)
    if (rows !== last) {
      last = rows
      lastMovedAt = performance.now()
    } else if (performance.now() - lastMovedAt > stallMs) {
      const why = await diagnose?.()
      throw new Error(
        `${table}: no new rows for ${stallMs / 1000} s (${rows} of ${expected})${why ? `: ${why}` : ''}`,
      )
    }
    await sleep(Math.max(0, pollMs - (performance.now() - polledAt)))
  }
}

/** Waits until no background merge runs (so the next run does not share the CPUs with one); ms waited. */
export async function waitForMerges(storage: Storage, timeoutMs = 60_000): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    const [row] = await storage.client
      .query({ query: 'SELECT count() AS merges FROM system.merges', format: 'JSONEachRow' })
      .then((result) => result.json<{ merges: string }>())
    if (Number(row?.merges ?? 0) === 0) break
    await sleep(100)
  }
  return performance.now() - started
}

/**
 * Columns of `<a>.audit_events` whose values differ from `<b>.audit_events`' (an order-free
 * checksum per column: the sum of each value's cityHash64), and whether the row counts match.
 */
export async function differingColumns(
  storage: Storage,
  a: string,
  b: string,
): Promise<{ columns: string[]; differ: string[] }> {
  const columns = await storage.client
    .query({
      query: `SELECT name FROM system.columns WHERE database = {database:String} AND table = 'audit_events'
              ORDER BY position`,
      query_params: { database: a },
      format: 'JSONEachRow',
    })
    .then((result) => result.json<{ name: string }>())
    .then((rows) => rows.map((row) => row.name))
  const sums = columns.map((name) => `toString(sum(cityHash64(\`${name}\`))) AS \`${name}\``).join(', ')
  const checksums = async (database: string) => {
    const [row] = await storage.client
      .query({
        query: `SELECT toString(count()) AS \`count()\`, ${sums} FROM ${database}.audit_events`,
        format: 'JSONEachRow',
      })
      .then((result) => result.json<Record<string, string>>())
    return row ?? {}
  }
  const [left, right] = await Promise.all([checksums(a), checksums(b)])
  return {
    columns,
    differ: ['count()', ...columns].filter((name) => left[name] !== right[name]),
  }
}
