import type { IHeaders, Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { DeadLetterFormatError } from './deadLetterFormatError.js'
import { deadLetterHeaderNames as names, replayedFromHeaderName } from './deadLetterHeaders.js'
import {
  buildDeadLetter,
  readDeadLetter,
  type ConsumedMessage,
  type DeadLetterInput,
} from './deadLetterRecord.js'

const now = new Date('2026-03-01T12:34:56.789Z')
const dlq = { topic: 'audit.dlq', partition: 2, offset: '41' }

function input(overrides: Partial<DeadLetterInput> = {}): DeadLetterInput {
  return {
    source: {
      topic: 'audit.events',
      partition: 3,
      offset: '1234567',
      timestamp: '1767225600000',
      key: Buffer.from('tenant-1'),
      // Not valid UTF-8 on purpose: the value must come back byte for byte.
      value: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]),
      headers: { 'trace-id': Buffer.from('abc123'), 'content-type': 'application/json' },
    },
    error: {
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'WRONG_MAGIC_BYTE',
      message: 'magic byte 0xff, expected 0x00',
    },
    service: 'normalizer',
    now,
    ...overrides,
  }
}

/** What a consumer gets back from Kafka for a produced message: header values as bytes. */
function consumed(message: Message): ConsumedMessage {
  const toBuffer = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v)
  const headers: IHeaders = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(toBuffer) : toBuffer(value)
  }
  return {
    key: message.key === undefined || message.key === null ? null : toBuffer(message.key),
    value: message.value === null ? null : toBuffer(message.value),
    headers,
  }
}

const headerText = (message: Message, name: string) => {
  const value = message.headers?.[name]
  return typeof value === 'string' ? value : undefined
}

describe('an EVENT_ID_CONFLICT dead letter', () => {
  const conflict = {
    tenant: 'acme',
    eventId: '0b9a1f9e-8f0a-4c55-9a53-8f5d0e8d2a11',
    storedDigest: 'a'.repeat(64),
    refusedDigest: 'b'.repeat(64),
  }

  it('carries both digests and reads them back', () => {
    const message = buildDeadLetter(
      input({ error: { errorClass: 'EVENT_ID_CONFLICT', message: 'refused', conflict } }),
    )
    expect(headerText(message, names.storedDigest)).toBe(conflict.storedDigest)
    expect(headerText(message, names.refusedDigest)).toBe(conflict.refusedDigest)
    expect(readDeadLetter(consumed(message), dlq).conflict).toEqual(conflict)
  })

  it('refuses a dead letter with only part of the conflict headers', () => {
    const message = buildDeadLetter(
      input({ error: { errorClass: 'EVENT_ID_CONFLICT', message: 'refused', conflict } }),
    )
    delete message.headers?.[names.refusedDigest]
    expect(() => readDeadLetter(consumed(message), dlq)).toThrow(/come together; 1 missing/)
  })

  it('has no conflict when the error is any other', () => {
    expect(readDeadLetter(consumed(buildDeadLetter(input())), dlq).conflict).toBeUndefined()
  })
})

describe('buildDeadLetter', () => {
  it('keeps the key, the value and the headers, and adds the error and the source as strings', () => {
    const message = buildDeadLetter(input())
    expect(message.key).toEqual(Buffer.from('tenant-1'))
    expect(message.value).toEqual(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]))
    expect(message.timestamp).toBeUndefined()
    expect(message.headers).toEqual({
      'trace-id': Buffer.from('abc123'),
      'content-type': 'application/json',
      'audit-dlq-error-class': 'EVENT_UNDECODABLE',
      'audit-dlq-error-reason': 'WRONG_MAGIC_BYTE',
      'audit-dlq-error-message': 'magic byte 0xff, expected 0x00',
      'audit-dlq-source-topic': 'audit.events',
      'audit-dlq-source-partition': '3',
      'audit-dlq-source-offset': '1234567',
      'audit-dlq-source-timestamp': '1767225600000',
      'audit-dlq-failed-at': '2026-03-01T12:34:56.789Z',
      'audit-dlq-service': 'normalizer',
    })
  })

  it('writes no reason header when there is no reason', () => {
    const message = buildDeadLetter(input({ error: { errorClass: 'EVENT_INVALID', message: 'bad' } }))
    expect(Object.keys(message.headers ?? {})).not.toContain(names.errorReason)
  })

  it('replaces the dead-letter headers of an earlier failure instead of adding a second set', () => {
    const first = buildDeadLetter(input())
    const replayed = {
      ...consumed(first),
      headers: { ...consumed(first).headers, [replayedFromHeaderName]: 'audit.dlq/0/7' },
    }
    const again = buildDeadLetter(
      input({
        source: {
          topic: 'audit.events',
          partition: 1,
          offset: '99',
          timestamp: '1767225700000',
          ...replayed,
        },
        error: { errorClass: 'EVENT_INVALID', message: 'tenant missing' },
        service: 'clickhouse-sink',
      }),
    )
    expect(again.headers).toEqual({
      'trace-id': Buffer.from('abc123'),
      'content-type': Buffer.from('application/json'),
      [replayedFromHeaderName]: 'audit.dlq/0/7',
      'audit-dlq-error-class': 'EVENT_INVALID',
      'audit-dlq-error-message': 'tenant missing',
      'audit-dlq-source-topic': 'audit.events',
      'audit-dlq-source-partition': '1',
      'audit-dlq-source-offset': '99',
      'audit-dlq-source-timestamp': '1767225700000',
      'audit-dlq-failed-at': '2026-03-01T12:34:56.789Z',
      'audit-dlq-service': 'clickhouse-sink',
    })
  })

  it('caps the error message at 4 KiB on a character boundary, marked with an ellipsis', () => {
    // 'é' is 2 bytes and '😀' 4: 4093 bytes of 'é' leave the cut inside the emoji that follows.
    const long = 'a' + 'é'.repeat(2046) + '😀'.repeat(10)
    const message = buildDeadLetter(input({ error: { errorClass: 'EVENT_INVALID', message: long } }))
    const capped = headerText(message, names.errorMessage) ?? ''
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(4096)
    expect(capped).toBe('a' + 'é'.repeat(2046) + '…')
    expect(capped).not.toContain('\uFFFD')
  })

  it('rejects an error class or reason that is not a code', () => {
    expect(() =>
      buildDeadLetter(input({ error: { errorClass: 'tenant 42 is unknown', message: 'x' } })),
    ).toThrow(
      "dead letter errorClass must be a code such as EVENT_INVALID (upper case, digits, underscores); got 'tenant 42 is unknown'",
    )
    expect(() =>
      buildDeadLetter(input({ error: { errorClass: 'EVENT_INVALID', reason: 'not-json', message: 'x' } })),
    ).toThrow(
      "dead letter reason must be a code such as EVENT_INVALID (upper case, digits, underscores); got 'not-json'",
    )
    expect(() => buildDeadLetter(input({ service: '' }))).toThrow('dead letter service must name the service')
  })
})

describe('readDeadLetter', () => {
  it('reads back what buildDeadLetter wrote, bytes and all', () => {
    const dead = readDeadLetter(consumed(buildDeadLetter(input())), dlq)
    expect(dead).toEqual({
      dlq,
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'WRONG_MAGIC_BYTE',
      message: 'magic byte 0xff, expected 0x00',
      source: { topic: 'audit.events', partition: 3, offset: '1234567', timestamp: '1767225600000' },
      failedAt: now,
      service: 'normalizer',
      key: Buffer.from('tenant-1'),
      value: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]),
      originalHeaders: { 'trace-id': Buffer.from('abc123'), 'content-type': Buffer.from('application/json') },
    })
  })

  it('keeps a null key and value', () => {
    const source = { ...input().source, key: null, value: null }
    const dead = readDeadLetter(consumed(buildDeadLetter(input({ source }))), dlq)
    expect([dead.key, dead.value, dead.reason]).toEqual([null, null, 'WRONG_MAGIC_BYTE'])
  })

  it('names every missing header', () => {
    const read = () =>
      readDeadLetter({ key: null, value: Buffer.from('{}'), headers: { 'trace-id': 'x' } }, dlq)
    expect(read).toThrow(DeadLetterFormatError)
    expect(read).toThrow(
      'message audit.dlq/2/41 is not a dead letter: header audit-dlq-error-class is missing; header audit-dlq-error-message is missing; header audit-dlq-source-topic is missing; header audit-dlq-source-partition is missing; header audit-dlq-source-offset is missing; header audit-dlq-source-timestamp is missing; header audit-dlq-failed-at is missing; header audit-dlq-service is missing',
    )
  })

  it('names malformed and repeated headers, with the location', () => {
    const good = consumed(buildDeadLetter(input()))
    const headers: IHeaders = {
      ...good.headers,
      [names.sourcePartition]: Buffer.from('three'),
      [names.sourceOffset]: Buffer.from('-5'),
      [names.failedAt]: Buffer.from('yesterday'),
      [names.errorClass]: [Buffer.from('EVENT_INVALID'), Buffer.from('EVENT_TOO_LARGE')],
    }
    let error: unknown
    try {
      readDeadLetter({ ...good, headers }, dlq)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(DeadLetterFormatError)
    expect((error as DeadLetterFormatError).location).toEqual(dlq)
    expect((error as DeadLetterFormatError).problems).toEqual([
      'header audit-dlq-error-class appears 2 times',
      "header audit-dlq-source-partition is not a partition number: 'three'",
      "header audit-dlq-source-offset is not an offset: '-5'",
      "header audit-dlq-failed-at is not an ISO-8601 time: 'yesterday'",
    ])
  })

  it('accepts a failed-at time with an offset, and rejects one without a zone', () => {
    const good = consumed(buildDeadLetter(input()))
    const at = (failedAt: string) => ({ ...good, headers: { ...good.headers, [names.failedAt]: failedAt } })
    expect(readDeadLetter(at('2026-03-01T14:34:56+02:00'), dlq).failedAt).toEqual(
      new Date('2026-03-01T12:34:56Z'),
    )
    expect(() => readDeadLetter(at('2026-03-01T14:34:56'), dlq)).toThrow(
      "header audit-dlq-failed-at is not an ISO-8601 time: '2026-03-01T14:34:56'",
    )
  })
})
