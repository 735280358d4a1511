import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { WorkerReport, WorkerRequest } from './kafkaClientsWorker.js'

/**
 * Runs one WorkerRequest in a process of its own (kafkaClientsWorker.ts, plain `node`: no bench
 * flags, as a service would run) and resolves with its report. A process that exits without one,
 * or outlives `timeoutMs` (then SIGKILLed by its PID), is a failed run naming the end of its
 * output.
 */
export function runWorker(request: WorkerRequest, options: { timeoutMs: number }): Promise<WorkerReport> {
  const entry = fileURLToPath(new URL('./kafkaClientsWorker.js', import.meta.url))
  return new Promise((resolve) => {
    const child = fork(entry, [JSON.stringify(request)], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const output: string[] = []
    const keep = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean))
      output.splice(0, Math.max(0, output.length - 8))
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    let report: WorkerReport | undefined
    child.on('message', (message: WorkerReport) => (report = message))
    const timer = setTimeout(() => {
      output.push(`(no report after ${options.timeoutMs / 1000} s: SIGKILL to pid ${child.pid})`)
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(
        report ?? {
          type: 'failed',
          stage: 'run',
          message: `process ${child.pid} exited (${signal ?? code}) without a report: ${output.join(' | ')}`,
        },
      )
    })
  })
}
