import type { Logger } from '@audit-pipeline/service-runtime'
import type { RuntimeContext } from './consumerRuntime.js'
import type { PartitionOffset } from './kafkaRecord.js'

/** `topic/partition@offset` for each position: what tests compare commits by. */
export const positionsOf = (offsets: Iterable<PartitionOffset>): string[] =>
  [...offsets].map((p) => `${p.topic}/${p.partition}@${p.offset}`)

/**
 * For unit tests of a service's steps: a runtime context with no runtime. `calls` records, in
 * order, every commit (`commit t/0@5`), dead-letter count (`dead letters RECORD_FAILED`), outage
 * wait (`while schema registry`) and commit made elsewhere (`committed elsewhere`).
 * `whileUnavailable` runs the work once, as the runtime does when nothing is down. Side-effect
 * free: importing it starts nothing.
 */
export function fakeRuntimeContext(log: Logger, overrides: Partial<RuntimeContext> = {}) {
  const calls: string[] = []
  const aborting = new AbortController()
  const context: RuntimeContext = {
    signal: aborting.signal,
    log,
    commit: (offsets) => {
      calls.push(`commit ${positionsOf(offsets).join(' ')}`)
      return Promise.resolve()
    },
    whileUnavailable: (what, work) => {
      calls.push(`while ${what}`)
      return work()
    },
    committedElsewhere: () => void calls.push('committed elsewhere'),
    countDeadLetters: (errorClasses) => {
      calls.push(`dead letters ${errorClasses.join(' ')}`)
    },
    ...overrides,
  }
  return { context, calls, abort: () => aborting.abort() }
}
