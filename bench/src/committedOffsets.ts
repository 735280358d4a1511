import { setTimeout as sleep } from 'node:timers/promises'
import type { Admin } from 'kafkajs'

/** The offset after each partition's last message, by partition: what a finished reader has committed. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic)
  return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]))
}

/**
 * Resolves once `groupId` has committed `ends` on every partition of `topic`, checking every
 * `pollMs`: the moment a reader has finished with everything written there. Throws when the
 * committed total has not moved for `stallMs`, or when `failure()` names one, rather than hang.
 */
export async function waitUntilCommitted(
  admin: Admin,
  options: {
    groupId: string
    topic: string
    ends: Map<number, bigint>
    pollMs?: number
    stallMs?: number
    failure?: () => string | undefined
  },
): Promise<void> {
  const { groupId, topic, ends, pollMs = 50, stallMs = 60_000 } = options
  let lastTotal = -1n
  let lastMovedAt = performance.now()
  for (;;) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    let total = 0n
    let done = true
    for (const [partition, end] of ends) {
      const offset = BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1')
      if (offset > 0n) total += offset
      if (offset < end) done = false
    }
    if (done) return
    const failure = options.failure?.()
    if (failure) throw new Error(`${groupId} stopped before reading all of ${topic}: ${failure}`)
    if (total !== lastTotal) {
      lastTotal = total
      lastMovedAt = performance.now()
    } else if (performance.now() - lastMovedAt > stallMs) {
      const expected = [...ends.values()].reduce((sum, end) => sum + end, 0n)
      throw new Error(
        `${groupId} committed nothing new on ${topic} for ${stallMs / 1000} s (${total} of ${expected} messages)`,
      )
    }
    await sleep(pollMs)
  }
}

/** How many messages `topics` hold: the sum of their end offsets (no transactions, so no markers). */
export async function messageCount(admin: Admin, topics: readonly string[]): Promise<number> {
  let count = 0n
  for (const topic of topics) for (const end of (await endOffsets(admin, topic)).values()) count += end
  return Number(count)
}
