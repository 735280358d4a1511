import { randomBytes } from 'node:crypto'
import type { Admin, Kafka, Message } from 'kafkajs'
import type { KeyStore } from '@audit-pipeline/field-encryption'
import { hasFilter, matchesFilter, type DeadLetterFilter } from './deadLetterFilter.js'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import type { DeadLetterLocation } from './deadLetterRecord.js'
import { replayGroupIdFor } from './deadLetterTopic.js'
import { DeadLetterToolError } from './deadLetterToolError.js'
import { readBatch } from './readDeadLetters.js'
import { readTopicRange } from './readTopicRange.js'
import { replayedFrom, replayMessageFor } from './replayMessage.js'
import {
  deadLetterOpener,
  isSealed,
  type DeadLetterOpening,
  type SealedDeadLetter,
} from './sealedDeadLetter.js'

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
  /**
   * The key store sealed dead letters are opened with: the one their service sealed them with.
   * Without it, a replay that reaches a sealed dead letter stops before sending its batch
   * (KEYS_MISSING): it is never sent as ciphertext, nor skipped for good.
   */
  keys?: KeyStore
}

/** A sealed dead letter the replay did not send, and why. */
export type RefusedDeadLetter = {
  dlq: DeadLetterLocation
  keyId: string
  /**
   * `erased`: its data subject was erased, so it is gone by design. `unreadable`: it does not open
   * with its key (changed, or copied from another dead letter), and never will.
   */
  reason: 'erased' | 'unreadable'
  /** For people: which dead letter, and why it was not replayed. */
  message: string
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
  /**
   * Sealed dead letters selected but not sent: erased, or not opening. Like `unreadable`, a replay
   * without a filter commits past them.
   */
  refused: RefusedDeadLetter[]
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
 *
 * A sealed dead letter is sent with its value opened with `keys`. One whose key was erased (its
 * data subject is gone by design), or that does not open, is reported in `refused` and never
 * sent; one whose key the store does not know, or any when no store was given, stops the replay
 * before its batch is sent: a wrong store must not make it skip them for good.
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayResult> {
  const { kafka, topic, filter, to, keys } = options
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
    refused: [],
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
        // Per batch: an erasure made during a long replay is seen from the next batch on.
        const open = keys === undefined ? undefined : deadLetterOpener(keys)
        for (const read of readBatch(topic, partition, messages)) {
          if (read instanceof DeadLetterFormatError) {
            result.unreadable.push(read)
          } else if (!matchesFilter(read, filter)) {
            result.skipped++
          } else {
            let opened: Extract<DeadLetterOpening, { state: 'opened' }> | undefined
            if (isSealed(read)) {
              const opening = await openToReplay(read, open)
              if (opening.state !== 'opened') {
                result.refused.push(refusalOf(read, opening))
                continue
              }
              opened = opening
            }
            const target = to ?? read.source.topic
            if (!existingTopics.has(target)) {
              throw new DeadLetterToolError(
                'TARGET_TOPIC_MISSING',
                `dead letter ${replayedFrom(read)} would be replayed to topic ${target}, which does not exist: create it, or replay to another topic`,
              )
            }
            outgoing.set(target, [...(outgoing.get(target) ?? []), replayMessageFor(read, opened)])
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

/** Opens a sealed dead letter to replay it; throws for what the operator must fix first. */
async function openToReplay(
  dead: SealedDeadLetter,
  open: ((dead: SealedDeadLetter) => Promise<DeadLetterOpening>) | undefined,
): Promise<Exclude<DeadLetterOpening, { state: 'unknown-key' }>> {
  const { keyId } = dead.sealed
  if (open === undefined) {
    throw new DeadLetterToolError(
      'KEYS_MISSING',
      `dead letter ${replayedFrom(dead)} is sealed (key ${keyId}): replaying it needs the key store it was sealed with`,
    )
  }
  const opening = await open(dead)
  if (opening.state === 'unknown-key') {
    throw new DeadLetterToolError(
      'KEY_UNKNOWN',
      `dead letter ${replayedFrom(dead)} is sealed under key ${keyId}, which the key store does not know: replay with the key store its service sealed it with`,
    )
  }
  return opening
}

function refusalOf(
  dead: SealedDeadLetter,
  opening: Extract<DeadLetterOpening, { state: 'erased' | 'unreadable' }>,
): RefusedDeadLetter {
  const { keyId } = dead.sealed
  const where = `dead letter ${replayedFrom(dead)}`
  return opening.state === 'erased'
    ? {
        dlq: dead.dlq,
        keyId,
        reason: 'erased',
        message: `${where}: not replayed, its key ${keyId} was erased at ${opening.erasedAt.toISOString()} (its data subject is gone by design)`,
      }
    : {
        dlq: dead.dlq,
        keyId,
        reason: 'unreadable',
        message: `${where}: not replayed, it does not open with its key ${keyId} (changed, or copied from another dead letter)`,
      }
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
