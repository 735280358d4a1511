import { randomBytes } from 'node:crypto'
import type { Admin, Kafka, Message } from 'kafkajs'
import { hasFilter, matchesFilter, type DeadLetterFilter } from './deadLetterFilter.js'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import { replayGroupIdFor } from './deadLetterTopic.js'
import { DeadLetterToolError } from './deadLetterToolError.js'
import { readBatch } from './readDeadLetters.js'
import { readTopicRange } from './readTopicRange.js'
import { replayedFrom, replayMessageFor } from './replayMessage.js'

export type ReplayDeadLettersOptions = {
  kafka: Kafka
  /** The dead-letter topic. */
  topic: string
  /**
   * Replays only the dead letters that match. With a filter, progress is not remembered (see
   * `progressRemembered`): running the same filtered replay again sends the same dead letters again.
   */
  filter?: DeadLetterFilter
  /** Send every replayed message here instead of to its dead letter's source topic. */
  to?: string
  /** Read and count, send nothing, remember nothing. */
  dryRun?: boolean
  /** Ignore what earlier replays remembered and start at the beginning of the topic. */
  fromStart?: boolean
  /** Where progress is remembered; default `audit-dlq-replay.<topic>`. */
  groupId?: string
}

export type ReplayResult = {
  /** Dead letters re-sent (in a dry run: that would have been re-sent). */
  replayed: number
  /** Dead letters read that did not match the filter. */
  skipped: number
  /** Re-sent per target topic. */
  byTarget: Record<string, number>
  /** Messages in the topic that are not dead letters: never replayed. */
  unreadable: DeadLetterFormatError[]
  dryRun: boolean
  /** Whether this run committed its progress, so the next replay starts after it. */
  progressRemembered: boolean
}

/**
 * Re-sends the selected dead letters of `topic` (up to its end when the call started) to `to` or
 * else to each one's source topic: the original key, value and headers plus `audit-replayed-from`,
 * with an idempotent producer and acks from all in-sync replicas.
 *
 * Progress is remembered in consumer group `groupId` and a replay starts where the last one that
 * remembered stopped (or at the beginning with `fromStart`):
 * - Without a filter, each batch's offsets are committed only after Kafka acknowledged its
 *   re-sent messages: a crash re-sends at most the unacknowledged batch, never loses one.
 * - With a filter, nothing is committed. Committing past a dead letter the filter left out would
 *   make a later replay (another filter, or none) skip it for good; committing only up to the first
 *   one left out would make the outcome depend on where they sit. So the filter alone is the
 *   selection: run with `dryRun` first to see it.
 * Messages that are not dead letters are reported in `unreadable` and, without a filter, committed
 * past: this tool could never replay them, and they stay in the topic for `listDeadLetters`.
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayResult> {
  const { kafka, topic, filter, to } = options
  const dryRun = options.dryRun ?? false
  const fromStart = options.fromStart ?? false
  const groupId = options.groupId ?? replayGroupIdFor(topic)
  const remembers = !dryRun && !hasFilter(filter)
  // A run that neither starts from the group's offsets nor commits has no use for the group, and
  // joining it would disturb a real replay running at the same time.
  const readGroupId =
    fromStart && !remembers ? `audit-dlq-replay-preview.${topic}.${randomBytes(6).toString('hex')}` : groupId

  const existingTopics = await prepare(kafka, {
    topic,
    to,
    groupId,
    readGroupId,
    forget: fromStart && remembers,
  })

  const result: ReplayResult = {
    replayed: 0,
    skipped: 0,
    byTarget: {},
    unreadable: [],
    dryRun,
    progressRemembered: remembers,
  }
  const byTarget = new Map<string, number>()
  const producer = dryRun
    ? undefined
    : kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
  await producer?.connect()
  try {
    await readTopicRange({
      kafka,
      topic,
      groupId: readGroupId,
      startAt: fromStart && !remembers ? 'beginning' : 'committed',
      onBatch: async ({ partition, messages, commit }) => {
        const outgoing = new Map<string, Message[]>()
        for (const read of readBatch(topic, partition, messages)) {
          if (read instanceof DeadLetterFormatError) {
            result.unreadable.push(read)
          } else if (!matchesFilter(read, filter)) {
            result.skipped++
          } else {
            const target = to ?? read.source.topic
            if (!existingTopics.has(target)) {
              throw new DeadLetterToolError(
                'TARGET_TOPIC_MISSING',
                `dead letter ${replayedFrom(read)} would be replayed to topic ${target}, which does not exist: create it, or replay to another topic`,
              )
            }
            outgoing.set(target, [...(outgoing.get(target) ?? []), replayMessageFor(read)])
          }
        }
        if (producer && outgoing.size > 0) {
          await producer.sendBatch({
            acks: -1,
            topicMessages: [...outgoing].map(([target, batch]) => ({ topic: target, messages: batch })),
          })
        }
        for (const [target, batch] of outgoing) {
          byTarget.set(target, (byTarget.get(target) ?? 0) + batch.length)
          result.replayed += batch.length
        }
        if (remembers) await commit()
        return false
      },
    })
  } finally {
    await producer?.disconnect()
  }
  result.byTarget = Object.fromEntries(byTarget)
  return result
}

/**
 * Checks before reading anything: the topics exist, no other replay is using the group; and with
 * `forget`, deletes the group's offsets so the replay starts at the beginning. Returns the topics.
 */
async function prepare(
  kafka: Kafka,
  options: { topic: string; to: string | undefined; groupId: string; readGroupId: string; forget: boolean },
): Promise<Set<string>> {
  const { topic, to, groupId, readGroupId, forget } = options
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = new Set(await admin.listTopics())
    if (!topics.has(topic)) throw new DeadLetterToolError('TOPIC_MISSING', `topic ${topic} does not exist`)
    if (to !== undefined && !topics.has(to)) {
      throw new DeadLetterToolError('TARGET_TOPIC_MISSING', `topic ${to} to replay to does not exist`)
    }
    if (readGroupId === groupId) {
      const state = await groupState(admin, groupId)
      if (state.members > 0) {
        throw new DeadLetterToolError(
          'REPLAY_IN_PROGRESS',
          `consumer group ${groupId} has ${state.members} member(s): another replay of ${topic} is running; wait for it to finish`,
        )
      }
      // Deleting the group deletes its committed offsets; Kafka refuses while it has members.
      if (forget && state.exists) await admin.deleteGroups([groupId])
    }
    return topics
  } finally {
    await admin.disconnect()
  }
}

async function groupState(admin: Admin, groupId: string): Promise<{ exists: boolean; members: number }> {
  const { groups } = await admin.describeGroups([groupId])
  const group = groups.find((g) => g.groupId === groupId)
  return { exists: group !== undefined && group.state !== 'Dead', members: group?.members.length ?? 0 }
}
