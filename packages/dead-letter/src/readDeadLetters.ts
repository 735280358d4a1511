import type { KafkaMessage } from 'kafkajs'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import { readDeadLetter, type DeadLetter } from './deadLetterRecord.js'

/**
 * The dead letters of one fetched batch, each either read or rejected with the reason: a foreign
 * message in the dead-letter topic is reported, not allowed to stop listing or replaying.
 */
export function readBatch(
  topic: string,
  partition: number,
  messages: KafkaMessage[],
): (DeadLetter | DeadLetterFormatError)[] {
  return messages.map((message) => {
    try {
      return readDeadLetter(message, { topic, partition, offset: message.offset })
    } catch (error) {
      if (error instanceof DeadLetterFormatError) return error
      throw error
    }
  })
}
