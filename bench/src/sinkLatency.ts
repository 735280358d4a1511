import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type { Storage } from '@audit-pipeline/storage'
import type { PacedProduceReport, PacedProduceRequest } from './pacedProduceWorker.js'

export type LatencyRun = {
  produced: PacedProduceReport
  /** Produce-to-queryable of each event, ms, ascending; Infinity for those not queryable in time. */
  latenciesMs: number[]
  /** Events not queryable `drainTimeoutMs` after the last was produced. */
  missing: number
  drainTimeoutMs: number
  pollMs: number
  polls: number
  /** Mean time one poll's query took, ms. */
  meanPollQueryMs: number
}

/**
 * Produce-to-queryable: produces `eventsPerSecond` to `topic` for `seconds` (from a worker thread,
 * a batch every `tickMs`, each event's recorded_at its produce time) while the sink runs, and
 * queries `table` every `pollMs` for rows of `topic` past the offsets already seen. An event's
 * latency is from its recorded_at to the start of the first query that returned it, so the
 * figures are late by up to one poll interval, never early.
 */
export async function produceToQueryable(options: {
  storage: Storage
  table: string
  topic: string
  /** Per partition, the first offset the paced events get (the topic's end before they are produced). */
  startOffsets: Map<number, bigint>
  produce: Omit<PacedProduceRequest, 'topic'>
  pollMs?: number
  /** After the last send, how long the rows may take to appear; later ones count as never. */
  drainTimeoutMs?: number
}): Promise<LatencyRun> {
  const { storage, table, topic, pollMs = 50, drainTimeoutMs = 60_000 } = options
  const next = new Map(options.startOffsets)
  const latenciesMs: number[] = []
  let polls = 0
  let pollQueryMs = 0

  const poll = async () => {
    const after = [...next].map(
      ([partition, offset]) => `(kafka_partition = ${partition} AND kafka_offset >= ${offset})`,
    )
    const visibleAt = Date.now()
    const started = performance.now()
    const rows = await storage.client
      .query({
        query: `SELECT kafka_partition AS partition, kafka_offset AS offset,
                       toUnixTimestamp64Milli(recorded_at) AS produced
                FROM ${table}
                WHERE kafka_topic = {topic:String} AND (${after.join(' OR ')})`,
        query_params: { topic },
        format: 'JSONEachRow',
      })
      .then((result) => result.json<{ partition: number; offset: string; produced: string }>())
    pollQueryMs += performance.now() - started
    polls++
    for (const row of rows) {
      latenciesMs.push(visibleAt - Number(row.produced))
      const offset = BigInt(row.offset) + 1n
      if (offset > (next.get(row.partition) ?? 0n)) next.set(row.partition, offset)
    }
  }

  const worker = new Worker(new URL('./pacedProduceWorker.js', import.meta.url), {
    workerData: { ...options.produce, topic } satisfies PacedProduceRequest,
  })
  const outcome: { produced?: PacedProduceReport; failed?: { error: unknown }; exitCode?: number } = {}
  worker.on('message', (report: PacedProduceReport) => (outcome.produced = report))
  worker.on('error', (error) => (outcome.failed ??= { error }))
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', (code) => {
      outcome.exitCode = code
      resolve()
    }),
  )
  let doneAt: number | undefined
  let produced: PacedProduceReport | undefined
  try {
    for (;;) {
      const polledAt = performance.now()
      await poll()
      if (outcome.failed) throw outcome.failed.error
      produced = outcome.produced
      if (!produced && outcome.exitCode !== undefined) {
        throw new Error(`the paced producer stopped (exit code ${outcome.exitCode}) without reporting`)
      }
      if (produced) {
        doneAt ??= performance.now()
        if (latenciesMs.length >= produced.sent || performance.now() - doneAt > drainTimeoutMs) break
      }
      await sleep(Math.max(0, pollMs - (performance.now() - polledAt)))
    }
  } finally {
    if (!outcome.produced) await worker.terminate()
    await exited
  }
  const missing = Math.max(0, produced.sent - latenciesMs.length)
  for (let i = 0; i < missing; i++) latenciesMs.push(Number.POSITIVE_INFINITY)
  return {
    produced,
    missing,
    drainTimeoutMs,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    pollMs,
    polls,
    meanPollQueryMs: pollQueryMs / Math.max(1, polls),
  }
}

/** The `p`-th percentile (0 to 100) of ascending `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * values.length)
  return values[Math.min(values.length, Math.max(1, rank)) - 1] ?? Number.NaN
}
