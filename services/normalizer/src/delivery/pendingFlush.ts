import type { Message, TopicMessages } from 'kafkajs'
import type { PlannedOutput, RecordPlan, SentEvent } from '../pipeline/planRecord.js'
import type { DeadLetterClass } from '../pipeline/deadLetterClasses.js'

/** What a flush did, counted once Kafka acknowledged it: the metrics and the flush's log line. */
export type FlushTally = {
  records: number
  /** By `route\ttopic`. */
  produced: Map<string, number>
  /** By `route\treason`. */
  dropped: Map<string, number>
  skipped: Map<string, number>
  deadLettered: Map<DeadLetterClass, number>
  duplicates: number
  /** Events sent below 3/3, by `temporal\tinformative` level. */
  reduced: Map<string, number>
}

/**
 * The work read from one partition and not yet sent: output and dead-letter messages, the ids they
 * carry, and the offset of the last message taken. A flush sends all of it in one request and
 * only then commits `lastOffset + 1`: every message up to there has all its outputs acknowledged,
 * which is the contiguous prefix of finished work.
 */
export type PendingFlush = {
  /** Takes one input message's plan (and its dead letter, already built, when the plan says so). */
  add(offset: string, timestampMs: number, plan: RecordPlan, deadLetter?: Message): void
  readonly bytes: number
  readonly records: number
  readonly lastOffset: string | undefined
  /** Kafka timestamps of the messages taken, ms: processing latency once they are acknowledged. */
  readonly timestampsMs: readonly number[]
  /** The events the flush sends, to remember once it is acknowledged. */
  readonly sent: readonly SentEvent[]
  topicMessages(deadLetterTopic: string): TopicMessages[]
  readonly tally: FlushTally
}

export function createPendingFlush(): PendingFlush {
  const byTopic = new Map<string, Message[]>()
  const deadLetters: Message[] = []
  const sent: SentEvent[] = []
  const timestampsMs: number[] = []
  const tally: FlushTally = {
    records: 0,
    produced: new Map(),
    dropped: new Map(),
    skipped: new Map(),
    deadLettered: new Map(),
    duplicates: 0,
    reduced: new Map(),
  }
  let bytes = 0
  let lastOffset: string | undefined

  return {
    add(offset, timestampMs, plan, deadLetter) {
      lastOffset = offset
      timestampsMs.push(timestampMs)
      tally.records++
      if (plan.kind === 'skipped') return increment(tally.skipped, plan.reason)
      if (plan.kind === 'dead-letter') {
        if (!deadLetter) throw new Error('a dead-letter plan needs its dead-letter message')
        deadLetters.push(deadLetter)
        bytes += messageBytes(deadLetter)
        return increment(tally.deadLettered, plan.cause.errorClass)
      }
      for (const output of plan.outputs) {
        let messages = byTopic.get(output.topic)
        if (!messages) byTopic.set(output.topic, (messages = []))
        messages.push({ key: output.key, value: output.value, headers: output.headers })
        bytes += outputBytes(output)
        increment(tally.produced, `${output.route}\t${output.topic}`)
      }
      for (const { route, reason } of plan.dropped) increment(tally.dropped, `${route}\t${reason}`)
      tally.duplicates += plan.duplicates
      for (const { temporal, informative } of plan.reduced)
        increment(tally.reduced, `${temporal}\t${informative}`)
      for (const event of plan.sent) sent.push(event)
    },
    get bytes() {
      return bytes
    },
    get records() {
      return tally.records
    },
    get lastOffset() {
      return lastOffset
    },
    timestampsMs,
    sent,
    topicMessages(deadLetterTopic) {
      const topics = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
      return deadLetters.length > 0 ? [...topics, { topic: deadLetterTopic, messages: deadLetters }] : topics
    },
    tally,
  }
}

function increment<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/** What one output weighs in a produce request: key, value, the route header and record overhead. */
export function outputBytes(output: PlannedOutput): number {
  return output.key.length + output.value.length + 64
}

/** About what a message weighs in a produce request: key, value and headers. */
export function messageBytes(message: Message): number {
  const bytesOf = (value: unknown): number =>
    typeof value === 'string'
      ? Buffer.byteLength(value)
      : Buffer.isBuffer(value)
        ? value.length
        : Array.isArray(value)
          ? value.reduce((sum: number, item) => sum + bytesOf(item), 0)
          : 0
  let size = bytesOf(message.value) + bytesOf(message.key) + 64
  for (const [name, value] of Object.entries(message.headers ?? {}))
    size += Buffer.byteLength(name) + bytesOf(value)
  return size
}
