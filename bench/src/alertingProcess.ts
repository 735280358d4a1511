import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

export type AlertingProcess = {
  pid: number
  /** The ops server's /metrics, from the 'ready' log line. */
  metricsUrl: string
  /** SIGTERM, then waits for the exit; throws if it does not exit 0. */
  stop(): Promise<void>
}

/** Environment the bench sets itself for the process; such variables of its own environment are not passed on. */
const ownedPrefixes = ['KAFKA_', 'SCHEMA_REGISTRY_', 'CLICKHOUSE_', 'ALERTING_', 'OPS_', 'LOG_LEVEL']

/**
 * The alerting service as deployed: its own process (services/alerting/bin), so the bench's own
 * work (producing, the baseline consumer, the receiver) does not share its event loop. Resolves
 * once /readyz answers 200 (state restored, consumer group joined).
 */
export async function startAlertingProcess(
  settings: Record<string, string>,
  options: { readyTimeoutMs?: number } = {},
): Promise<AlertingProcess> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  // BENCH_ALERTING_BIN: another build of the service (an older commit's, to compare with).
  const bin =
    process.env['BENCH_ALERTING_BIN'] ??
    fileURLToPath(new URL('../bin/audit-alerting.js', import.meta.resolve('@audit-pipeline/alerting')))
  const inherited = Object.entries(process.env).filter(
    ([name]) => !ownedPrefixes.some((prefix) => name.startsWith(prefix)),
  )
  // info: the ops server's URL (a port chosen by the system) is only in the 'ready' line.
  const env = { ...Object.fromEntries(inherited), ...settings, OPS_PORT: '0', LOG_LEVEL: 'info' }
  // BENCH_ALERTING_NODE_ARGS: Node.js flags for the service process, e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof` for V8's profile of its main thread, written at its exit.
  const nodeOptions = (process.env['BENCH_ALERTING_NODE_ARGS'] ?? '').split(' ').filter(Boolean)
  const child = spawn(process.execPath, [...nodeOptions, bin], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${bin}`)
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  void exited.then((result) => (exit = result))
  const output: string[] = []
  let readyUrl: string | undefined
  let metricsUrl: string | undefined
  const keep = (line: string) => {
    output.push(line)
    if (output.length > 40) output.shift()
  }
  createInterface({ input: child.stderr }).on('line', keep)
  createInterface({ input: child.stdout }).on('line', (line) => {
    keep(line)
    if (!line.startsWith('{')) return
    try {
      const entry = JSON.parse(line) as Record<string, unknown>
      if (
        entry['msg'] === 'ready' &&
        typeof entry['metrics'] === 'string' &&
        typeof entry['ready'] === 'string'
      ) {
        metricsUrl = entry['metrics']
        readyUrl = entry['ready']
      }
    } catch {
      // not a log line
    }
  })
  const failure = (what: string) =>
    new Error(`alerting process ${pid} ${what}; its last output:\n${output.map((l) => `  ${l}`).join('\n')}`)

  const deadline = performance.now() + readyTimeoutMs
  for (;;) {
    if (exit) throw failure(`exited (${exit.signal ?? exit.code}) before it was ready`)
    if (performance.now() > deadline) {
      child.kill('SIGKILL')
      throw failure(`not ready after ${readyTimeoutMs / 1000} s`)
    }
    if (readyUrl && (await fetch(readyUrl).catch(() => undefined))?.status === 200) break
    await sleep(50)
  }
  return {
    pid,
    metricsUrl: metricsUrl!,
    stop: async () => {
      child.kill('SIGTERM')
      const { code, signal } = await exited
      if (code !== 0) throw failure(`exited with ${signal ?? code} after SIGTERM`)
    },
  }
}
