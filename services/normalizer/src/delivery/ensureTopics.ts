import type { Admin } from 'kafkajs'
import { AuditError } from '@audit-pipeline/errors'

export class TopicsMissingError extends AuditError<'TOPIC_MISSING'> {}

export type TopicRequest = {
  topic: string
  /** Topic-level settings for a topic created here, e.g. a larger max.message.bytes for dead letters. */
  configEntries?: { name: string; value: string }[]
}

/**
 * Makes sure the topics exist before anything is sent to them: a send to a missing topic would
 * retry until it fails, with the consumer stalled. Creates the missing ones when allowed (the
 * local stack, development), else names them in the error (production clusters where operators
 * create topics).
 */
export async function ensureTopics(
  admin: Admin,
  wanted: readonly TopicRequest[],
  create: { partitions: number } | false,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics())
  const missing = wanted.filter(({ topic }) => !existing.has(topic))
  if (missing.length === 0) return []
  if (!create) {
    throw new TopicsMissingError(
      'TOPIC_MISSING',
      `output topics do not exist: ${missing.map((m) => m.topic).join(', ')}; create them, or set NORMALIZER_CREATE_TOPICS=true`,
      false,
    )
  }
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map(({ topic, configEntries }) => ({
      topic,
      numPartitions: create.partitions,
      ...(configEntries && { configEntries }),
    })),
  })
  return missing.map((m) => m.topic)
}
