import { fork, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { E2eProducerCommand, E2eProducerReport, E2eProducerRequest } from './e2eProducerProcess.js'

export type ProducerDone = Extract<E2eProducerReport, { type: 'done' }>

export type E2eProducers = {
  pids: number[]
  /** Tells every producer to start. */
  start(): void
  /** Each producer's report once all are done, undefined until then; throws when one exited without one. */
  finished(): ProducerDone[] | undefined
  /** Lets them exit, then makes sure they did (SIGKILL after `deadlineMs`). Safe to call twice. */
  stop(deadlineMs?: number): Promise<void>
}

/**
 * Starts one process per request (e2eProducerProcess.ts, plain `node` as a service would run, no
 * bench flags) and resolves once each has connected and loaded the schema. A process that exits
 * early fails the start (or the run) with the end of its output.
 */
export async function startE2eProducers(
  requests: readonly E2eProducerRequest[],
  options: { readyTimeoutMs?: number } = {},
): Promise<E2eProducers> {
  const entry = fileURLToPath(new URL('./e2eProducerProcess.js', import.meta.url))
  const children = requests.map((request) => {
    const child = fork(entry, [JSON.stringify(request)], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const output: string[] = []
    const keep = (line: string) => {
      output.push(line)
      if (output.length > 20) output.shift()
    }
    createInterface({ input: child.stdout! }).on('line', keep)
    createInterface({ input: child.stderr! }).on('line', keep)
    const reports: E2eProducerReport[] = []
    child.on('message', (report: E2eProducerReport) => reports.push(report))
    let exit: string | undefined
    child.once('exit', (code, signal) => (exit = String(signal ?? code)))
    return { child, request, output, reports, exited: () => exit }
  })
  const stop = async (deadlineMs = 10_000) => {
    for (const { child } of children) if (child.connected) child.send('exit' satisfies E2eProducerCommand)
    const deadline = performance.now() + deadlineMs
    for (const { child } of children) {
      while (running(child) && performance.now() < deadline) await sleep(20)
      if (running(child)) child.kill('SIGKILL')
    }
  }
  const failure = (producer: (typeof children)[number], what: string) =>
    new Error(
      `producer ${producer.request.producer} (pid ${producer.child.pid}) ${what}; its last output:\n` +
        producer.output.map((line) => `  ${line}`).join('\n'),
    )
  // Every producer connected and holding the schema, polled until the deadline.
  try {
    const timeoutMs = options.readyTimeoutMs ?? 60_000
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const waiting = children.filter((c) => !c.reports.some((r) => r.type === 'ready'))
      if (waiting.length === 0) break
      const gone = waiting.find((c) => c.exited() !== undefined)
      if (gone) throw failure(gone, `exited (${gone.exited()}) before it was ready`)
      if (performance.now() > deadline) {
        throw failure(waiting[0]!, `was not ready after ${timeoutMs / 1000} s`)
      }
      await sleep(20)
    }
  } catch (error) {
    await stop(2_000)
    throw error
  }
  return {
    pids: children.map(({ child }) => child.pid!),
    start: () => {
      for (const { child } of children) child.send('start' satisfies E2eProducerCommand)
    },
    finished: () => {
      const reports = children.map((c) => c.reports.find((r): r is ProducerDone => r.type === 'done'))
      const gone = children.find((c, i) => reports[i] === undefined && c.exited() !== undefined)
      if (gone) throw failure(gone, `exited (${gone.exited()}) before it was done`)
      return reports.every((r) => r !== undefined) ? reports : undefined
    },
    stop,
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}
