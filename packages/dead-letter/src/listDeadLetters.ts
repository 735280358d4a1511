import { randomBytes } from 'node:crypto'
import type { Kafka } from 'kafkajs'
import { matchesFilter, type DeadLetterFilter } from './deadLetterFilter.js'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import type { DeadLetter } from './deadLetterRecord.js'
import { DeadLetterToolError } from './deadLetterToolError.js'
import { readBatch } from './readDeadLetters.js'
import { readTopicRange } from './readTopicRange.js'

export type ListDeadLettersOptions = {
  kafka: Kafka
  /** The dead-letter topic. */
  topic: string
  filter?: DeadLetterFilter
  /** At most this many dead letters (and at most this many unreadable messages) are returned. */
  limit: number
}

export type DeadLetterListing = {
  /** Matching dead letters in (partition, offset) order, at most `limit`. */
  deadLetters: DeadLetter[]
  /** Messages in the topic that are not dead letters, in the same order, at most `limit`. */
  unreadable: DeadLetterFormatError[]
  /** True when `limit` cut the listing short: more dead letters may match. */
  limited: boolean
}

/**
 * The dead letters in `topic` from its beginning up to its end as it was when the call started.
 * Reads with a throwaway consumer group that commits nothing, so listing never changes what a
 * replay will send.
 */
export async function listDeadLetters({
  kafka,
  topic,
  filter,
  limit,
}: ListDeadLettersOptions): Promise<DeadLetterListing> {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new DeadLetterToolError('OPTION_INVALID', `limit must be a positive integer; got ${limit}`)
  }
  // The first `limit` in (partition, offset) order are among the first `limit` of each partition,
  // so each partition keeps at most one more than that (the one more tells that the limit cut the
  // listing short) and is done once it has them: memory stays bounded by partitions × limit.
  const keptPerPartition = limit + 1
  const found = new Map<number, { deadLetters: DeadLetter[]; unreadable: DeadLetterFormatError[] }>()
  await readTopicRange({
    kafka,
    topic,
    groupId: `audit-dlq-list.${topic}.${randomBytes(6).toString('hex')}`,
    startAt: 'beginning',
    onBatch: ({ partition, messages }) => {
      const kept = found.get(partition) ?? { deadLetters: [], unreadable: [] }
      found.set(partition, kept)
      for (const read of readBatch(topic, partition, messages)) {
        if (kept.deadLetters.length === keptPerPartition) break
        if (read instanceof DeadLetterFormatError) {
          if (kept.unreadable.length < limit) kept.unreadable.push(read)
        } else if (matchesFilter(read, filter)) {
          kept.deadLetters.push(read)
        }
      }
      return Promise.resolve(kept.deadLetters.length === keptPerPartition)
    },
  })
  const partitions = [...found.keys()].sort((a, b) => a - b)
  const deadLetters = partitions.flatMap((p) => found.get(p)?.deadLetters ?? [])
  return {
    deadLetters: deadLetters.slice(0, limit),
    unreadable: partitions.flatMap((p) => found.get(p)?.unreadable ?? []).slice(0, limit),
    limited: deadLetters.length > limit,
  }
}
