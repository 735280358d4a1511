import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { testSigningKeyFile } from '@audit-pipeline/testing'

export type SinkProcessRun = {
  pid: number
  events: number
  /** From spawning the process to its 'ready' log line (migrations applied, group joining). */
  startupSeconds: number
  /** From 'ready' until audit_sink_rows_inserted_total reached `events`. */
  seconds: number
  /**
   * Largest VmRSS sampled every `sampleMs`, bytes, with the rows inserted then and the process's
   * own account from /metrics at that sample: V8's heap and memory outside it held by JavaScript
   * objects (Buffers); the rest of the RSS is native (chDB, code, allocator caches).
   */
  peakRss: {
    bytes: number
    rowsInserted: number
    heapBytes: number
    heapUsedBytes: number
    externalBytes: number
  }
  /** Largest V8 heap (nodejs_heap_size_total_bytes) sampled, bytes. */
  peakHeapBytes: number
  /** Largest VmRSS sampled in each quarter of the backlog written, bytes: flat when memory is bounded. */
  peakRssByQuarter: number[]
  /** VmHWM just before SIGTERM: the kernel's own peak resident set, bytes. */
  highWaterMarkBytes: number
  /** VmRSS at 'ready', bytes: chDB's library and the runtime before any batch. */
  readyRssBytes: number
  samples: number
  sampleMs: number
  /** From the sink's /metrics at the end. */
  batches: number
  insertSeconds: number
  backpressureSeconds: number
  /** How the process ended after SIGTERM. */
  exit: { code: number | null; signal: NodeJS.Signals | null; stopSeconds: number }
}

/** Environment the bench sets itself for the process; other such variables of its own environment are not passed on. */
const ownedPrefixes = ['KAFKA_', 'SCHEMA_REGISTRY_', 'CLICKHOUSE_', 'SINK_', 'OPS_', 'LOG_LEVEL']

/**
 * Runs the sink as its own process (services/clickhouse-sink/bin, as deployed) on a backlog of
 * `events` already in `topic`, with embedded ClickHouse in `dataPath`. Samples its RSS from
 * /proc/<pid>/status and its rows written from /metrics (the URL from its 'ready' log line)
 * every `sampleMs` until every event is written, then stops it with SIGTERM and waits for it.
 */
export async function runSinkProcess(options: {
  brokers: string[]
  registryUrl: string
  dataPath: string
  database: string
  topic: string
  groupId: string
  deadLetterTopic: string
  events: number
  overrides: Record<string, string>
  sampleMs?: number
  stallMs?: number
}): Promise<SinkProcessRun> {
  const { events, sampleMs = 200, stallMs = 60_000 } = options
  const bin = fileURLToPath(
    new URL('../bin/audit-clickhouse-sink.js', import.meta.resolve('@audit-pipeline/clickhouse-sink')),
  )
  const inherited = Object.entries(process.env).filter(
    ([name]) => !ownedPrefixes.some((prefix) => name.startsWith(prefix)),
  )
  const env = {
    ...Object.fromEntries(inherited),
    SINK_SIGNING_KEY_FILE: testSigningKeyFile(),
    ...options.overrides,
    KAFKA_BROKERS: options.brokers.join(','),
    SCHEMA_REGISTRY_URL: options.registryUrl,
    CLICKHOUSE_EMBEDDED_PATH: options.dataPath,
    CLICKHOUSE_DATABASE: options.database,
    SINK_INPUT_TOPICS: options.topic,
    SINK_GROUP_ID: options.groupId,
    SINK_DEAD_LETTER_TOPIC: options.deadLetterTopic,
    OPS_PORT: '0',
    // info, not warn: the ops server's URL (a port chosen by the system) is only in the 'ready' line.
    LOG_LEVEL: 'info',
  }
  const spawnedAt = performance.now()
  const child = spawn(process.execPath, [bin], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${bin}`)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  void exited.then((result) => (exit = result))

  const output: string[] = []
  let metricsUrl: string | undefined
  const keep = (line: string) => {
    output.push(line)
    if (output.length > 40) output.shift()
  }
  createInterface({ input: child.stderr }).on('line', keep)
  createInterface({ input: child.stdout }).on('line', (line) => {
    keep(line)
    const entry = parseJson(line)
    if (entry?.['msg'] === 'ready' && typeof entry['metrics'] === 'string') metricsUrl = entry['metrics']
  })
  const failure = (what: string) =>
    new Error(`sink process ${pid} ${what}; its last output:\n${output.map((l) => `  ${l}`).join('\n')}`)

  try {
    while (metricsUrl === undefined) {
      if (exit) throw failure(`exited (${exit.signal ?? exit.code}) before it was ready`)
      if (performance.now() - spawnedAt > stallMs) throw failure(`not ready after ${stallMs / 1000} s`)
      await sleep(20)
    }
    const readyAt = performance.now()
    const readyRssBytes = await rssBytes(pid)
    let peakRss = { bytes: readyRssBytes, rowsInserted: 0, heapBytes: 0, heapUsedBytes: 0, externalBytes: 0 }
    let peakHeapBytes = 0
    const peakRssByQuarter = [0, 0, 0, 0]
    let samples = 0
    let rows = 0
    let lastRows = -1
    let lastMovedAt = readyAt
    let metrics = ''
    for (;;) {
      const sampledAt = performance.now()
      if (exit) throw failure(`exited (${exit.signal ?? exit.code}) after ${rows} of ${events} rows`)
      const rss = await rssBytes(pid)
      metrics = await fetch(metricsUrl).then((response) => response.text())
      rows = metricTotal(metrics, 'audit_sink_rows_inserted_total')
      samples++
      const quarter = Math.min(3, Math.floor((rows / events) * 4))
      peakRssByQuarter[quarter] = Math.max(peakRssByQuarter[quarter] ?? 0, rss)
      const heapBytes = metricTotal(metrics, 'nodejs_heap_size_total_bytes')
      peakHeapBytes = Math.max(peakHeapBytes, heapBytes)
      if (rss > peakRss.bytes) {
        const externalBytes = metricTotal(metrics, 'nodejs_external_memory_bytes')
        const heapUsedBytes = metricTotal(metrics, 'nodejs_heap_size_used_bytes')
        peakRss = { bytes: rss, rowsInserted: rows, heapBytes, heapUsedBytes, externalBytes }
      }
      if (rows >= events) break
      if (rows !== lastRows) {
        lastRows = rows
        lastMovedAt = sampledAt
      } else if (sampledAt - lastMovedAt > stallMs) {
        throw failure(`wrote nothing for ${stallMs / 1000} s (${rows} of ${events} rows)`)
      }
      await sleep(Math.max(0, sampleMs - (performance.now() - sampledAt)))
    }
    const seconds = (performance.now() - readyAt) / 1000
    const highWaterMarkBytes = await statusBytes(pid, 'VmHWM')
    const insert = 'audit_sink_insert_duration_seconds'
    const stopping = performance.now()
    child.kill('SIGTERM')
    const ended = await exited
    return {
      pid,
      events,
      startupSeconds: (readyAt - spawnedAt) / 1000,
      seconds,
      peakRss,
      peakHeapBytes,
      peakRssByQuarter,
      highWaterMarkBytes,
      readyRssBytes,
      samples,
      sampleMs,
      batches: metricTotal(metrics, `${insert}_count`),
      insertSeconds: metricTotal(metrics, `${insert}_sum`),
      backpressureSeconds: metricTotal(metrics, 'audit_sink_backpressure_seconds_total'),
      exit: { ...ended, stopSeconds: (performance.now() - stopping) / 1000 },
    }
  } finally {
    if (!exit && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  }
}

/** The sum of a metric's samples over all label sets, from Prometheus text (`name{labels} value`). */
export function metricTotal(text: string, name: string): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== ' ' && rest[0] !== '{') continue
    const value = Number(rest.slice(rest.lastIndexOf(' ') + 1))
    if (Number.isFinite(value)) total += value
  }
  return total
}

const rssBytes = (pid: number) => statusBytes(pid, 'VmRSS')

/** A `kB` line of /proc/<pid>/status (VmRSS, VmHWM), in bytes. */
async function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  if (!match?.[1]) throw new Error(`/proc/${pid}/status has no ${field} line`)
  return Number(match[1]) * 1024
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}
