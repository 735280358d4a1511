import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'

const root = join(import.meta.dirname, '..', '..')

/**
 * Builds a workspace package and what it depends on (turbo: cached, about a second when nothing
 * changed), so a test runs the service as it ships: `node bin/…` on compiled code.
 */
export function buildPackage(name: string): void {
  execFileSync('npx', ['turbo', 'run', 'build', `--filter=${name}...`, '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
}

/**
 * Builds what `npm start` (audit-stack run) starts: the local stack and every service; with
 * embedded ClickHouse the sink and the query API run in one process (deploy/sink-with-query-api).
 */
export function buildMainJob(): void {
  const services = ['normalizer', 'clickhouse-sink', 'query-api', 'alerting', 'forwarder']
  for (const name of ['local-stack', ...services, 'sink-with-query-api']) {
    buildPackage(`@audit-pipeline/${name}`)
  }
}

/** One JSON log line of a service. */
export type LogLine = { level: string; msg: string; [field: string]: unknown }

export type ServiceProcess = {
  readonly child: ChildProcess
  readonly pid: number
  /** Every JSON line written to stdout so far. */
  readonly logs: readonly LogLine[]
  /** Lines that were not JSON (stderr included): a CLI's output, or failure messages. */
  readonly otherOutput: readonly string[]
  /** Resolves with the exit code (or the signal's name) once the process ended. */
  readonly exited: Promise<number | string>
  /** Waits for a log line with this message; throws with the output when the process exits first. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>
}

/**
 * Starts `node <bin> [args]` (bin relative to the repository root) in `cwd`, by default the
 * root, with `env` added (a variable set to undefined is removed); killed with SIGKILL if the
 * test leaves it running.
 */
export function startServiceProcess(
  bin: string,
  env: Record<string, string | undefined>,
  args: readonly string[] = [],
  cwd: string = root,
): ServiceProcess {
  const merged = { ...process.env, ...env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name]
  const child = spawn(process.execPath, [join(root, bin), ...args], {
    cwd,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: LogLine[] = []
  const otherOutput: string[] = []
  let exitStatus: number | string | undefined
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = code ?? signal ?? 'unknown'
      resolve(exitStatus)
    })
  })
  const lines = (stream: NodeJS.ReadableStream, json: boolean) => {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop() ?? ''
      for (const line of parts) {
        if (!line.trim()) continue
        try {
          if (!json) throw new Error('stderr')
          logs.push(JSON.parse(line) as LogLine)
        } catch {
          otherOutput.push(line)
        }
      }
    })
  }
  lines(child.stdout, true)
  lines(child.stderr, false)
  onTestFinished(() => {
    if (exitStatus === undefined) child.kill('SIGKILL')
  })
  return {
    child,
    pid: child.pid!,
    logs,
    otherOutput,
    exited,
    waitForLog: (msg, timeoutMs = 60_000) =>
      waitFor(
        () => {
          const found = logs.find((line) => line.msg === msg)
          if (found) return found
          if (exitStatus !== undefined) {
            throw new Error(
              `${bin} exited (${exitStatus}) before logging "${msg}":\n${[...logs.map((l) => JSON.stringify(l)), ...otherOutput].slice(-20).join('\n')}`,
            )
          }
          return undefined
        },
        { timeoutMs, description: `${bin} to log "${msg}"` },
      ),
  }
}
