import { describe, expect, it } from 'vitest'
import type { KafkaRecord } from '@audit-pipeline/kafka'
import { deduplicationToken } from './deduplicationToken.js'

const row = (offset: number, eventId: string, topic = 't') => ({
  eventId,
  record: { topic, partition: 0, offset: String(offset) } as KafkaRecord,
})

describe('deduplicationToken', () => {
  it('is the same for the same rows, so a retried insert is stored once', () => {
    const token = deduplicationToken([row(0, 'a'), row(1, 'b')])
    expect(token).toMatch(/^audit-sink-[0-9a-f]{64}$/)
    expect(deduplicationToken([row(0, 'a'), row(1, 'b')])).toBe(token)
  })

  it('differs when any row differs: a half of the batch, another topic, or another event at the same offset', () => {
    const token = deduplicationToken([row(0, 'a'), row(1, 'b')])
    expect(deduplicationToken([row(0, 'a')])).not.toBe(token)
    expect(deduplicationToken([row(0, 'a', 'u'), row(1, 'b', 'u')])).not.toBe(token)
    // A topic deleted and created again: new events at the old offsets are not a repeat.
    expect(deduplicationToken([row(0, 'c'), row(1, 'd')])).not.toBe(token)
  })
})
