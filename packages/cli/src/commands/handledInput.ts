import kafkajs, { type Admin } from 'kafkajs'

// kafkajs is CommonJS and spreads its errors into its exports, which Node's named imports miss.
const { KafkaJSDeleteTopicRecordsError } = kafkajs

/** What became of one input partition's records. Offsets are Kafka's, as strings. */
export type InputPartitionOutcome = { topic: string; partition: number } & (
  | { status: 'removed'; committedOffset: string; fromOffset: string; count: number }
  | { status: 'nothing-to-remove'; committedOffset: string; earliestOffset: string }
  | { status: 'no-committed-offset' }
  | { status: 'committed-beyond-end'; committedOffset: string; endOffset: string }
  | { status: 'failed'; committedOffset: string; error: string }
)

/**
 * What to remove from one input topic: on each partition, every record below the group's
 * committed offset (the next offset it will read, so everything before it was handled), from the
 * earliest record still there. A partition the group never committed is left as it is (kafkajs
 * reports -1; deleteTopicRecords would take -1 as "up to the end", which is never what is meant here),
 * and so is one whose committed offset is past its end (the topic recreated since the commit:
 * nothing in it is known to be handled). Pure, for `removeHandledInput` to carry out.
 */
export function planHandledInputRemoval(
  topic: string,
  committed: readonly { partition: number; offset: string }[],
  watermarks: readonly { partition: number; low: string; high: string }[],
): InputPartitionOutcome[] {
  const committedBy = new Map(committed.map((entry) => [entry.partition, entry.offset]))
  return [...watermarks]
    .sort((a, b) => a.partition - b.partition)
    .map(({ partition, low, high }): InputPartitionOutcome => {
      const offset = committedBy.get(partition)
      if (offset === undefined || BigInt(offset) < 0n)
        return { topic, partition, status: 'no-committed-offset' }
      if (BigInt(offset) > BigInt(high)) {
        return { topic, partition, status: 'committed-beyond-end', committedOffset: offset, endOffset: high }
      }
      if (BigInt(offset) <= BigInt(low)) {
        return { topic, partition, status: 'nothing-to-remove', committedOffset: offset, earliestOffset: low }
      }
      const count = Number(BigInt(offset) - BigInt(low))
      return { topic, partition, status: 'removed', committedOffset: offset, fromOffset: low, count }
    })
}

/**
 * Removes from `topic` the records `groupId` has committed past (planHandledInputRemoval), with
 * Kafka's DeleteRecords (kafkajs `deleteTopicRecords`): the log start offset moves up, and the
 * records below it are gone for every reader. Never changes the group's offsets (kafkajs's
 * `resolveOffsets` would write them). A partition the brokers refused comes back `failed` with
 * their reason; the others are removed.
 */
export async function removeHandledInput(
  admin: Admin,
  topic: string,
  groupId: string,
): Promise<InputPartitionOutcome[]> {
  // Offsets first, then watermarks: the end can only have moved past what was committed.
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const watermarks = await admin.fetchTopicOffsets(topic)
  const plan = planHandledInputRemoval(topic, committed?.partitions ?? [], watermarks)
  const removals = plan.filter((outcome) => outcome.status === 'removed')
  if (removals.length === 0) return plan
  try {
    await admin.deleteTopicRecords({
      topic,
      partitions: removals.map(({ partition, committedOffset }) => ({ partition, offset: committedOffset })),
    })
    return plan
  } catch (error) {
    const refused = refusedPartitions(error)
    return plan.map((outcome): InputPartitionOutcome => {
      if (outcome.status !== 'removed') return outcome
      const reason = refused ? refused.get(outcome.partition) : (error as Error).message
      if (reason === undefined) return outcome
      const { topic: t, partition, committedOffset } = outcome
      return { topic: t, partition, status: 'failed', committedOffset, error: reason }
    })
  }
}

/**
 * The partitions a KafkaJSDeleteTopicRecordsError names (itself, or the cause kafkajs wraps it in
 * once its retries are spent), with each one's reason; undefined for any other error, after which
 * no partition can be said to have been removed.
 */
function refusedPartitions(error: unknown): Map<number, string> | undefined {
  const refusal =
    error instanceof KafkaJSDeleteTopicRecordsError ? error : (error as Error | undefined)?.cause
  if (!(refusal instanceof KafkaJSDeleteTopicRecordsError)) return undefined
  // Typed without `partitions` (types/index.d.ts), which kafkajs sets (src/errors.js).
  const { partitions } = refusal as unknown as { partitions: { partition: number; error?: Error }[] }
  return new Map(partitions.map(({ partition, error: cause }) => [partition, cause?.message ?? 'refused']))
}
