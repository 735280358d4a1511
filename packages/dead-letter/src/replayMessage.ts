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
 *
 * A sealed dead letter is replayed with its value opened (`opened`, from openDeadLetter); without
 * it this throws: its ciphertext is no message any producer sent.
 */
export function replayMessageFor(
  dead: DeadLetter,
  opened?: { readonly value: Buffer },
): Message & { headers: IHeaders } {
  if (dead.sealed !== undefined && opened === undefined) {
    throw new Error(`dead letter ${replayedFrom(dead)} is sealed: open it before replaying it`)
  }
  const { [replayedFromHeaderName]: _earlier, ...headers } = dead.originalHeaders
  return {
    key: dead.key,
    value: opened?.value ?? dead.value,
    headers: { ...headers, [replayedFromHeaderName]: replayedFrom(dead) },
  }
}
