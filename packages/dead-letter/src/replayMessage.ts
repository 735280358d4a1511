import type { IHeaders, Message } from 'kafkajs'
import { replayedFromHeaderName } from './deadLetterHeaders.js'
import type { DeadLetter } from './deadLetterRecord.js'

/** `<dlqTopic>/<partition>/<offset>`: the value of `audit-replayed-from`. */
export function replayedFrom(dead: Pick<DeadLetter, 'dlq'>): string {
  return `${dead.dlq.topic}/${dead.dlq.partition}/${dead.dlq.offset}`
}

/**
 * The message that re-injects `dead`: the original key, value and headers, byte for byte, plus
 * `audit-replayed-from`. An earlier replay's `audit-replayed-from` (the message failed again after
 * being replayed) is replaced by this one, which points at the newer failure.
 */
export function replayMessageFor(dead: DeadLetter): Message & { headers: IHeaders } {
  const { [replayedFromHeaderName]: _earlier, ...headers } = dead.originalHeaders
  return {
    key: dead.key,
    value: dead.value,
    headers: { ...headers, [replayedFromHeaderName]: replayedFrom(dead) },
  }
}
