import { describe, expect, it } from 'vitest'
import type { DeadLetter } from './deadLetterRecord.js'
import { replayMessageFor } from './replayMessage.js'

const dead: DeadLetter = {
  dlq: { topic: 'audit.dlq', partition: 4, offset: '1000' },
  errorClass: 'EVENT_INVALID',
  message: 'tenant missing',
  source: { topic: 'audit.events', partition: 1, offset: '17', timestamp: '1767225600000' },
  failedAt: new Date('2026-03-01T00:00:00Z'),
  service: 'normalizer',
  key: Buffer.from('k'),
  value: Buffer.from([1, 2, 3]),
  originalHeaders: { 'trace-id': Buffer.from('abc'), 'audit-replayed-from': Buffer.from('audit.dlq/0/3') },
}

describe('replayMessageFor', () => {
  it('sends the original key, value and headers, pointing back at the dead letter', () => {
    const message = replayMessageFor(dead)
    expect(message.key).toBe(dead.key)
    expect(message.value).toBe(dead.value)
    expect(message.headers).toEqual({
      'trace-id': Buffer.from('abc'),
      'audit-replayed-from': 'audit.dlq/4/1000',
    })
  })

  it('adds audit-replayed-from to a message that had never been replayed', () => {
    const message = replayMessageFor({ ...dead, originalHeaders: {} })
    expect(message.headers).toEqual({ 'audit-replayed-from': 'audit.dlq/4/1000' })
  })
})
