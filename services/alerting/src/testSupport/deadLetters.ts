import type { IHeaders, Message } from 'kafkajs'
import { buildDeadLetter, type EventIdConflict } from '@audit-pipeline/dead-letter'

/** A conflict as the normalizer reports it: a UUID event id and two SHA-256 digests. */
export const sampleConflict: EventIdConflict = {
  tenant: 'acme',
  eventId: '0b9a1f9e-8f0a-4c55-9a53-8f5d0e8d2a11',
  storedDigest: 'a'.repeat(64),
  refusedDigest: 'b'.repeat(64),
}

/**
 * A dead letter as a service writes it (packages/dead-letter): of class EVENT_ID_CONFLICT with
 * `conflict`, or of `errorClass` without one.
 */
export function deadLetterMessage(
  options: {
    conflict?: EventIdConflict
    errorClass?: string
    service?: string
    offset?: string
    failedAt?: Date
  } = {},
): Message {
  const errorClass = options.errorClass ?? (options.conflict ? 'EVENT_ID_CONFLICT' : 'EVENT_INVALID')
  return buildDeadLetter({
    source: {
      topic: 'audit.events',
      partition: 3,
      offset: options.offset ?? '1234',
      timestamp: '1772442000000',
      key: Buffer.from('acme'),
      value: Buffer.from('{"event_id":"…"}'),
      headers: { 'content-type': 'application/json' },
    },
    error: {
      errorClass,
      message:
        errorClass === 'EVENT_ID_CONFLICT' ? 'event id already accepted with other content' : 'not valid',
      ...(options.conflict && { conflict: options.conflict }),
    },
    service: options.service ?? 'normalizer',
    now: options.failedAt ?? new Date('2026-03-02T09:00:00.000Z'),
  })
}

/** What a consumer gets back from Kafka for a produced message: header values as bytes. */
export function consumedMessage(message: Message): {
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
} {
  const bytes = (value: Buffer | string) => (typeof value === 'string' ? Buffer.from(value) : value)
  const headers: IHeaders = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(bytes) : bytes(value)
  }
  return {
    key: message.key === undefined || message.key === null ? null : bytes(message.key),
    value: message.value === null ? null : bytes(message.value),
    headers,
  }
}
