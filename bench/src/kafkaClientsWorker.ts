import type { KafkaClientName } from './kafkaClientsContenders.js'
import { checkGuarantees, type GuaranteeResult } from './kafkaClientsGuarantees.js'
import { loadAdapter } from './kafkaClientsLoad.js'
import { forwardPath, producerPath, type PathTimes } from './kafkaClientsPaths.js'

/**
 * One client's process in the `kafka-clients` section: each run gets a fresh Node.js process, so
 * the clients share no heap, JIT state or native threads, and the CPU time measured is this
 * client's alone. Its one argument is a WorkerRequest (JSON); it sends one WorkerReport over IPC
 * and exits.
 */

export type WorkerJob =
  | {
      kind: 'produce'
      topic: string
      warmupTopic: string
      events: number
      warmupEvents: number
      window: number
    }
  | {
      kind: 'forward'
      input: string
      output: string
      groupId: string
      ends: [number, string][]
      warmup: { input: string; output: string; groupId: string; ends: [number, string][] }
      concurrency: number
      stallMs: number
    }
  | { kind: 'guarantees'; stamp: string; brokerPid?: number }

export type WorkerRequest = {
  client: KafkaClientName
  /** A contender's cache folder. */
  folder?: string
  brokers: string[]
  maxWaitMs: number
  job: WorkerJob
}

export type WorkerReport =
  | { type: 'measured'; version: string; settings: { producer: string; consumer: string }; times: PathTimes }
  | { type: 'guarantees'; version: string; results: GuaranteeResult[] }
  | { type: 'failed'; stage: 'load' | 'run'; message: string }

async function main(request: WorkerRequest): Promise<WorkerReport> {
  let adapter
  try {
    adapter = await loadAdapter(request.client, request.folder, {
      brokers: request.brokers,
      maxWaitMs: request.maxWaitMs,
    })
  } catch (error) {
    return { type: 'failed', stage: 'load', message: messageOf(error) }
  }
  try {
    const { job } = request
    const about = { version: adapter.version, settings: adapter.settings }
    if (job.kind === 'produce') return { type: 'measured', ...about, times: await producerPath(adapter, job) }
    if (job.kind === 'forward') {
      const ends = (pairs: [number, string][]) => new Map(pairs.map(([p, o]) => [p, BigInt(o)]))
      const times = await forwardPath(adapter, {
        ...job,
        ends: ends(job.ends),
        warmup: {
          ...job.warmup,
          ends: ends(job.warmup.ends),
          concurrency: job.concurrency,
          stallMs: job.stallMs,
        },
      })
      return { type: 'measured', ...about, times }
    }
    const results = await checkGuarantees(adapter, {
      brokers: request.brokers,
      stamp: job.stamp,
      ...(job.brokerPid !== undefined && { brokerPid: job.brokerPid }),
    })
    return { type: 'guarantees', version: adapter.version, results }
  } catch (error) {
    return { type: 'failed', stage: 'run', message: messageOf(error) }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n').slice(0, 4).join(' ') : String(error)
}

const request = JSON.parse(process.argv[2] ?? '{}') as WorkerRequest
// The parent gone (the bench interrupted): nothing left to report to.
process.on('disconnect', () => process.exit(1))
const report = await main(request)
process.send?.(report, () => process.exit(0))
