import type { Message, Producer } from 'kafkajs'
import { buildDeadLetter } from '@audit-pipeline/dead-letter'
import { chunksOfBytes, recordBytes } from '../chunksOfBytes.js'
import type { KafkaRecord } from './kafkaRecord.js'
import type { RecordFailure } from './recordFailure.js'

/** The dead letter for a record: its key, value and headers, plus the failure and where it came from. */
export function recordDeadLetter(
  record: KafkaRecord,
  failure: RecordFailure,
  service: string,
  now: Date,
): Message {
  return buildDeadLetter({
    source: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      value: record.value,
      headers: record.headers,
    },
    error: {
      errorClass: failure.errorClass,
      ...(failure.reason !== undefined && { reason: failure.reason }),
      message: failure.message,
      ...(failure.conflict && { conflict: failure.conflict }),
    },
    service,
    now,
  })
}

/**
 * Dead letters per produce request, by their bytes: one request of many large letters could pass
 * the broker's 1 MiB record batch limit.
 */
export const deadLetterChunkBytes = 512 * 1024

/** Sends dead letters with acks=all, in requests of at most deadLetterChunkBytes, in order. */
export async function sendDeadLetters(
  producer: Pick<Producer, 'send'>,
  topic: string,
  letters: readonly Message[],
): Promise<void> {
  for (const chunk of chunksOfBytes(letters, deadLetterChunkBytes, recordBytes)) {
    await producer.send({ topic, acks: -1, messages: chunk })
  }
}
