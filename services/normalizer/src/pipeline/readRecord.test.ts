import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodecError } from '@audit-pipeline/codec'
import {
  defaultEventPolicy,
  parseEventJson,
  sealedValuePattern,
  type AuditEvent,
} from '@audit-pipeline/event-model'
import { openEvents, openLocalKeyStore, sealEvent, type KeyStore } from '@audit-pipeline/field-encryption'
import { isOutage } from '@audit-pipeline/kafka'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { afterEach, describe, expect, it, onTestFinished, vi, type Mock } from 'vitest'
import { auditJsonAdapter } from '../adapters/auditJsonAdapter.js'
import { cloudEventsAdapter } from '../adapters/cloudEventsAdapter.js'
import { createDebeziumAdapter } from '../adapters/debeziumAdapter.js'
import { eventIdNamespaces, uuidV5 } from '../adapters/deterministicEventId.js'
import type { MessageHeaders } from '../adapters/inputMessage.js'
import { KeyStoreUnavailableError } from '../redaction/keyStoreOutage.js'
import { defaultRedactionPolicy, parseRedactionPolicy } from '../redaction/redactionPolicy.js'
import { readRecord, type InputRecord, type RecordReader, type RecordReading } from './readRecord.js'

const lines = ticketExampleLines()

/** When the messages reached Kafka: after the whole story (14 to 16 March 2024). */
const receivedAtMs = Date.parse('2024-03-16T14:00:00Z')

/** The third event of the story as the codec would decode it from Avro. */
const decoded: AuditEvent = {
  ...parseEventJson(JSON.parse(lines[2] ?? '')),
  recorded_at: Date.parse('2024-03-16T13:12:01Z'),
}

/** Bytes in the Confluent wire format: magic byte 0, a schema id, a body (the fake codec does not look). */
const avroValue = Buffer.from([0, 0, 0, 0, 7, 1, 2, 3])

type FakeReader = Omit<RecordReader, 'decodeAvro'> & {
  decodeAvro: Mock<(value: Buffer) => Promise<AuditEvent>>
}

/** A reader with the JSON adapters and a fake codec (by default decoding every value as `decoded`). */
function readerWith(overrides: Partial<RecordReader> = {}): FakeReader {
  const { decodeAvro = () => Promise.resolve(structuredClone(decoded)), ...rest } = overrides
  return {
    adapters: [auditJsonAdapter, cloudEventsAdapter],
    policy: defaultEventPolicy,
    redaction: defaultRedactionPolicy,
    maxEventBytes: 1_000_000,
    ...rest,
    decodeAvro: vi.fn(decodeAvro),
  }
}

function record(value: Buffer | string | null, headers: MessageHeaders = {}): InputRecord {
  return { value: typeof value === 'string' ? Buffer.from(value) : value, headers, timestampMs: receivedAtMs }
}

function eventsOf(reading: RecordReading): AuditEvent[] {
  if (reading.kind !== 'events') throw new Error(`expected events, got ${JSON.stringify(reading)}`)
  return reading.events
}

function causeOf(reading: RecordReading) {
  if (reading.kind !== 'dead-letter') throw new Error(`expected a dead letter, got ${reading.kind}`)
  return reading.cause
}

const jsonLine = (index: number): Record<string, unknown> =>
  JSON.parse(lines[index] ?? '') as Record<string, unknown>

const cloudEvent = JSON.parse(
  readFileSync(
    new URL('../adapters/fixtures/cloudevents-ticket-priority-lowered.json', import.meta.url),
    'utf8',
  ),
) as Record<string, unknown> & { data: Record<string, unknown> }

afterEach(() => {
  vi.useRealTimers()
})

describe('readRecord: Avro', () => {
  it('hands a value starting with byte 0 to the codec and normalizes what it decodes', async () => {
    const reader = readerWith()
    const events = eventsOf(await readRecord(record(avroValue), reader))
    expect(reader.decodeAvro).toHaveBeenCalledExactlyOnceWith(avroValue)
    expect(events).toEqual([decoded])
    // The producer's recorded_at wins over the Kafka timestamp.
    expect(events[0]?.recorded_at).toBe(decoded.recorded_at)
  })

  it('normalizes decoded events like any other input', async () => {
    const sloppy = { ...decoded, event_id: decoded.event_id.toUpperCase(), tenant: ' witify ' }
    const reader = readerWith({ decodeAvro: () => Promise.resolve(sloppy) })
    const [event] = eventsOf(await readRecord(record(avroValue), reader))
    expect([event?.event_id, event?.tenant]).toEqual([decoded.event_id, 'witify'])
  })

  it.each([
    ['EVENT_UNDECODABLE', 'EVENT_UNDECODABLE'],
    ['SCHEMA_UNKNOWN', 'SCHEMA_UNKNOWN'],
    ['SCHEMA_REJECTED', 'EVENT_UNDECODABLE'],
  ] as const)('dead-letters a final CodecError %s as %s', async (code, errorClass) => {
    const error = new CodecError(code, `the codec says ${code}`, false)
    const reader = readerWith({ decodeAvro: () => Promise.reject(error) })
    expect(await readRecord(record(avroValue), reader)).toEqual({
      kind: 'dead-letter',
      cause: { errorClass, reason: code, message: `the codec says ${code}` },
    })
  })

  it('throws a retriable CodecError instead of dead-lettering: the registry may come back', async () => {
    const outage = new CodecError('REGISTRY_UNAVAILABLE', 'connect ECONNREFUSED', true)
    const reader = readerWith({ decodeAvro: () => Promise.reject(outage) })
    await expect(readRecord(record(avroValue), reader)).rejects.toBe(outage)
  })

  it('dead-letters a value starting with a control byte as neither Avro nor JSON, without decoding', async () => {
    const reader = readerWith()
    const cause = causeOf(await readRecord(record(Buffer.from([0x01, 0x7b, 0x7d])), reader))
    expect(cause).toMatchObject({ errorClass: 'EVENT_UNDECODABLE', reason: 'WRONG_MAGIC_BYTE' })
    expect(cause.message).toContain('0x01')
    expect(reader.decodeAvro).not.toHaveBeenCalled()
  })

  it('dead-letters a message over maxEventBytes before any decoding', async () => {
    const reader = readerWith({ maxEventBytes: avroValue.length - 1 })
    const cause = causeOf(await readRecord(record(avroValue), reader))
    expect(cause.errorClass).toBe('EVENT_TOO_LARGE')
    expect(cause.message).toContain(`${avroValue.length} bytes`)
    expect(cause.message).toContain('NORMALIZER_MAX_EVENT_BYTES')
    expect(reader.decodeAvro).not.toHaveBeenCalled()

    const tooLargeJson = causeOf(await readRecord(record('x'.repeat(avroValue.length)), reader))
    expect(tooLargeJson.errorClass).toBe('EVENT_TOO_LARGE')
  })

  it('reads a message of exactly maxEventBytes', async () => {
    const reader = readerWith({ maxEventBytes: avroValue.length })
    expect(eventsOf(await readRecord(record(avroValue), reader))).toHaveLength(1)
  })
})

describe('readRecord: JSON', () => {
  it('reads the documented JSON form, recorded_at taken from the Kafka timestamp', async () => {
    const reader = readerWith()
    const [event] = eventsOf(await readRecord(record(lines[0] ?? ''), reader))
    expect(event).toEqual({ ...parseEventJson(jsonLine(0)), recorded_at: receivedAtMs })
    expect(reader.decodeAvro).not.toHaveBeenCalled()
  })

  it('keeps a recorded_at the producer sent', async () => {
    const recordedAt = '2024-03-14T09:45:01Z'
    const [event] = eventsOf(
      await readRecord(record(JSON.stringify({ ...jsonLine(0), recorded_at: recordedAt })), readerWith()),
    )
    expect(event?.recorded_at).toBe(Date.parse(recordedAt))
  })

  it('reads a structured CloudEvent', async () => {
    const headers = { 'content-type': 'application/cloudevents+json' }
    const [event] = eventsOf(await readRecord(record(JSON.stringify(cloudEvent), headers), readerWith()))
    expect(event).toMatchObject({
      event_id: uuidV5(eventIdNamespaces.cloudevents, '["helpdesk-api","hd-20240316-131200-0007"]'),
      occurred_at: Date.parse('2024-03-16T13:12:00Z'),
      recorded_at: receivedAtMs,
      tenant: 'witify',
      attributes: { 'cloudevents.type': 'com.witify.helpdesk.ticket.updated' },
    })
    // Changes computed from the snapshots by normalization.
    expect(event?.changes.map((change) => change.path)).toEqual(['priority', 'solution'])
  })

  it('skips a tombstone', async () => {
    const reader = readerWith()
    expect(await readRecord(record(null), reader)).toEqual({ kind: 'skipped', reason: 'TOMBSTONE' })
    expect(reader.decodeAvro).not.toHaveBeenCalled()
  })

  it('dead-letters text that is not JSON as INPUT_REJECTED / NOT_JSON', async () => {
    const cause = causeOf(await readRecord(record('ticket 9548-B1 created'), readerWith()))
    expect(cause).toMatchObject({ errorClass: 'INPUT_REJECTED', reason: 'NOT_JSON' })
    // The message describes the value without quoting it: it is personal data.
    expect(cause.message).not.toContain('9548')
  })

  it('dead-letters an invalid event as EVENT_INVALID naming the field', async () => {
    const event = jsonLine(0)
    const line = JSON.stringify({ ...event, actor: { type: 'user' } })
    const cause = causeOf(await readRecord(record(line), readerWith()))
    expect(cause.errorClass).toBe('EVENT_INVALID')
    expect(cause.reason).toBeUndefined()
    expect(cause.message).toContain('actor.id')
  })

  it('judges times against the Kafka timestamp, not the clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.parse('2030-01-01T00:00:00Z'))
    const early = { ...record(lines[0] ?? ''), timestampMs: Date.parse('2024-03-14T09:00:00Z') }
    const cause = causeOf(await readRecord(early, readerWith()))
    expect(cause.errorClass).toBe('EVENT_INVALID')
    expect(cause.message).toMatch(/occurred_at: 2024-03-14T09:45:00\.000Z is in the future/)
  })

  it('applies the redaction policy', async () => {
    const redaction = parseRedactionPolicy(
      'tenants: { witify: { sensitive_fields: [solution] } }',
      'r.yaml',
      undefined,
    )
    const [event] = eventsOf(await readRecord(record(lines[2] ?? ''), readerWith({ redaction })))
    expect(event?.sensitive_fields).toEqual(['solution'])
    expect(JSON.parse(event?.after ?? 'null')).toMatchObject({ solution: '[redacted]' })
  })

  it('reads the same record into the same events, whenever it is read', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const input = record(lines[1] ?? '')
    vi.setSystemTime(Date.parse('2024-03-16T15:00:00Z'))
    const first = await readRecord(input, readerWith())
    vi.setSystemTime(Date.parse('2025-01-01T00:00:00Z'))
    const second = await readRecord(input, readerWith())
    expect(second).toEqual(first)
    expect(eventsOf(first)).toHaveLength(1)
  })
})

describe('readRecord: CloudEvents batch', () => {
  const batchHeaders = { 'content-type': 'application/cloudevents-batch+json' }
  const second = {
    ...cloudEvent,
    id: 'hd-20240316-131200-0008',
    data: { ...cloudEvent.data, object: { type: 'ticket', id: '9549-C2' } },
  }

  it('reads every event of a batch', async () => {
    const events = eventsOf(
      await readRecord(record(JSON.stringify([cloudEvent, second]), batchHeaders), readerWith()),
    )
    expect(events.map((event) => event.object.id)).toEqual(['9548-B1', '9549-C2'])
  })

  it('dead-letters the whole message when the adapter refuses one event, naming its index', async () => {
    const broken = { ...second, data: { ...second.data, actor: { type: 'user' } } }
    const cause = causeOf(
      await readRecord(record(JSON.stringify([cloudEvent, broken]), batchHeaders), readerWith()),
    )
    expect(cause.errorClass).toBe('EVENT_INVALID')
    expect(cause.message).toContain('[1].data.actor.id')
  })

  it('dead-letters the whole message when normalization refuses one event, naming its index', async () => {
    const future = { ...second, time: '2024-03-17T00:00:00Z' }
    const cause = causeOf(
      await readRecord(record(JSON.stringify([cloudEvent, future]), batchHeaders), readerWith()),
    )
    expect(cause.errorClass).toBe('EVENT_INVALID')
    expect(cause.message).toMatch(/^event 1 of the message: .*occurred_at/)
  })

  it('does not name an index for a message of one event', async () => {
    const future = { ...cloudEvent, time: '2024-03-17T00:00:00Z' }
    const headers = { 'content-type': 'application/cloudevents+json' }
    const cause = causeOf(await readRecord(record(JSON.stringify(future), headers), readerWith()))
    expect(cause.message).not.toContain('of the message')
    expect(cause.message).toContain('occurred_at')
  })
})

describe('readRecord: nesting', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`

  it('dead-letters a JSON message nested 6,000 deep before any adapter walks it', async () => {
    const text = JSON.stringify({ ...jsonLine(1), after: { deep: 0 } }).replace(
      '{"deep":0}',
      `{"deep":${nested(6_000)}}`,
    )
    const reader = readerWith()
    expect(causeOf(await readRecord(record(text), reader))).toEqual({
      errorClass: 'EVENT_TOO_DEEP',
      message:
        // The message object and `after` are two levels: the 71st bracket of `deep` is the 73rd.
        `message nests objects and arrays more than 72 levels deep (at byte ${text.indexOf('{"deep":') + 8 + 70})`,
    })
  })

  it('dead-letters an Avro event whose snapshot is nested 6,000 deep, naming the field', async () => {
    const deep: AuditEvent = { ...structuredClone(decoded), before: `{"deep":${nested(6_000)}}` }
    const reading = await readRecord(
      record(avroValue),
      readerWith({ decodeAvro: () => Promise.resolve(deep) }),
    )
    expect(causeOf(reading)).toMatchObject({
      errorClass: 'EVENT_TOO_DEEP',
      message: expect.stringMatching(/^before nests objects and arrays more than 64 levels deep/) as string,
    })
  })

  it('dead-letters an Avro event whose change value is nested 6,000 deep, naming the change', async () => {
    const change = { path: 'x', old_value: '1', new_value: nested(6_000), value_type: 'array' as const }
    const deep: AuditEvent = { ...structuredClone(decoded), changes: [change] }
    const reading = await readRecord(
      record(avroValue),
      readerWith({ decodeAvro: () => Promise.resolve(deep) }),
    )
    expect(causeOf(reading)).toMatchObject({
      errorClass: 'EVENT_TOO_DEEP',
      message: expect.stringMatching(/^changes\[0\]\.new_value nests/) as string,
    })
  })
})

describe('readRecord: reserved namespaces', () => {
  /**
   * What a producer might send to pass for the pipeline itself: an alert (raised, resolved, or
   * a rule's object), an access record hiding someone's reads, an integrity record, by object type
   * or by action alone, in any case, in every input form.
   */
  const forgeries: [string, Record<string, unknown>, string][] = [
    [
      'an alert raised',
      { object: { type: 'alert', id: 'a-1' }, action: { kind: 'operation', name: 'alert.raised' } },
      'ALERT',
    ],
    [
      'an alert resolved under another object type',
      { action: { kind: 'operation', name: 'alert.resolved' } },
      'ALERT',
    ],
    ['an object typed Alert', { object: { type: 'Alert', id: 'a-2' } }, 'ALERT'],
    [
      'an access record',
      { object: { type: 'audit_query', id: 'r-1' }, action: { kind: 'read', name: 'audit_query.read' } },
      'ACCESS_RECORD',
    ],
    ['a denied access record', { action: { kind: 'read', name: 'AUDIT_QUERY.denied' } }, 'ACCESS_RECORD'],
    ['an integrity record', { object: { type: 'audit_checkpoint', id: 'c-1' } }, 'INTEGRITY'],
    ['an integrity action', { action: { kind: 'operation', name: 'audit_checkpoint.signed' } }, 'INTEGRITY'],
  ]

  it.each(forgeries)('dead-letters %s sent as JSON', async (_what, overrides, reason) => {
    const forged = { ...jsonLine(0), ...overrides }
    const cause = causeOf(await readRecord(record(JSON.stringify(forged)), readerWith()))
    expect(cause).toMatchObject({ errorClass: 'RESERVED_NAMESPACE', reason })
    expect(cause.message).toMatch(/only the pipeline's own services write/)
  })

  it.each(forgeries)('dead-letters %s sent as Avro', async (_what, overrides, reason) => {
    const forged = { ...parseEventJson({ ...jsonLine(2), ...overrides }), recorded_at: decoded.recorded_at }
    const reader = readerWith({ decodeAvro: () => Promise.resolve(forged) })
    expect(causeOf(await readRecord(record(avroValue), reader))).toMatchObject({
      errorClass: 'RESERVED_NAMESPACE',
      reason,
    })
  })

  it('dead-letters a CloudEvents batch whole when one of its events claims to be an alert', async () => {
    const forged = {
      ...cloudEvent,
      id: 'e-2',
      data: { ...cloudEvent.data, object: { type: 'alert', id: 'a-3' } },
    }
    const reading = await readRecord(
      record(JSON.stringify([cloudEvent, forged]), { 'content-type': 'application/cloudevents-batch+json' }),
      readerWith(),
    )
    const cause = causeOf(reading)
    expect(cause).toMatchObject({ errorClass: 'RESERVED_NAMESPACE', reason: 'ALERT' })
    expect(cause.message).toMatch(/^event 1 of the message: /)
  })

  it('reads events whose names only resemble a reserved one', async () => {
    const lookalike = {
      ...jsonLine(0),
      object: { type: 'alerts', id: 'x' },
      action: { kind: 'update', name: 'ticket.alerted' },
    }
    expect(eventsOf(await readRecord(record(JSON.stringify(lookalike)), readerWith()))).toHaveLength(1)
  })
})

/** A local key store in a folder of its own, removed after the test; `reopen` is the same store after a restart. */
function localKeyStore(): { keys: KeyStore; reopen: () => KeyStore } {
  const directory = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  const keyEncryptionKey = randomBytes(32)
  const reopen = () => openLocalKeyStore({ directory, keyEncryptionKey })
  return { keys: reopen(), reopen }
}

const solution = "Use the print dialog's Save as PDF until the fix ships."

describe('readRecord: field encryption', () => {
  const redaction = parseRedactionPolicy(
    'tenants: { witify: { method: encrypt, sensitive_fields: [solution] } }',
    'redaction.yaml',
    { fieldKeys: true },
  )

  it('seals an encrypting tenant’s sensitive values, paths and types left readable', async () => {
    const { keys } = localKeyStore()
    const [event] = eventsOf(
      await readRecord(record(lines[2] ?? ''), readerWith({ redaction, fieldKeys: keys })),
    )
    expect(event?.changes.map((change) => [change.path, change.value_type])).toEqual([
      ['priority', 'string'],
      ['solution', 'string'],
    ])
    expect(JSON.parse(event?.changes[1]?.new_value ?? 'null')).toMatch(sealedValuePattern)
    expect(JSON.parse(event?.after ?? 'null')).toMatchObject({
      solution: expect.stringMatching(sealedValuePattern) as string,
    })
    expect(JSON.stringify(event)).not.toContain('Save as PDF')
    const [opened] = await openEvents([event!], keys)
    expect(JSON.parse(opened?.after ?? 'null')).toMatchObject({ solution })
  })

  it('reads one message into byte-identical events every time, after a restart too', async () => {
    const { keys, reopen } = localKeyStore()
    const input = record(lines[2] ?? '')
    const first = JSON.stringify(await readRecord(input, readerWith({ redaction, fieldKeys: keys })))
    const again = JSON.stringify(await readRecord(input, readerWith({ redaction, fieldKeys: keys })))
    const restarted = JSON.stringify(await readRecord(input, readerWith({ redaction, fieldKeys: reopen() })))
    expect(again).toBe(first)
    expect(restarted).toBe(first)
  })

  it('leaves values the SDK sealed as they are', async () => {
    const { keys } = localKeyStore()
    const bySdk = await sealEvent({ ...decoded, sensitive_fields: ['solution'] }, keys, { kind: 'actor' })
    const reader = readerWith({ redaction, fieldKeys: keys, decodeAvro: () => Promise.resolve(bySdk) })
    expect(eventsOf(await readRecord(record(avroValue), reader))).toEqual([bySdk])
  })

  it('throws a retriable KeyStoreUnavailableError when the key store fails: never a dead letter', async () => {
    const failure = new Error('ENOSPC: no space left on device')
    const fail = () => Promise.reject(failure)
    const broken: KeyStore = { dataKeyFor: fail, keyById: fail, indexKeyFor: fail, erase: fail }
    const reading = readRecord(record(lines[2] ?? ''), readerWith({ redaction, fieldKeys: broken }))
    await expect(reading).rejects.toBeInstanceOf(KeyStoreUnavailableError)
    await expect(reading).rejects.toMatchObject({ retriable: true, cause: failure })
    expect(isOutage(await reading.catch((error: unknown) => error))).toBe(true)
  })

  it('dead-letters a refused message without waiting on the key store', async () => {
    const fail = () => Promise.reject(new Error('down'))
    const broken: KeyStore = { dataKeyFor: fail, keyById: fail, indexKeyFor: fail, erase: fail }
    const batch = JSON.stringify([cloudEvent, { ...cloudEvent, id: 'e-2', time: '2024-03-17T00:00:00Z' }])
    const headers = { 'content-type': 'application/cloudevents-batch+json' }
    const reading = await readRecord(record(batch, headers), readerWith({ redaction, fieldKeys: broken }))
    expect(causeOf(reading).errorClass).toBe('EVENT_INVALID')
  })
})

describe('readRecord: no change path spells a key under a sensitive path', () => {
  const address = 'bob@example.com'
  const redaction = (method: string) =>
    parseRedactionPolicy(
      `tenants: { witify: { method: ${method}, sensitive_fields: [customer.emails, "cards[*].number"] } }`,
      'redaction.yaml',
      { hmacKey: 'test-key', fieldKeys: true },
    )
  const before = { customer: { name: 'Bob', emails: { 'old@example.com': { verified: true } } } }
  const after = {
    customer: {
      name: 'Robert',
      emails: { [address]: { verified: false }, 'old@example.com': { verified: true } },
    },
    cards: [{ number: { '4111 1111 1111 1111': 'visa' } }],
  }
  const leaks = (events: AuditEvent[]) =>
    ['bob@', 'old@', '4111'].filter((secret) => JSON.stringify(events).includes(secret))
  const pathsOf = (events: AuditEvent[]) =>
    events.flatMap((event) => event.changes.map((change) => change.path))
  /** The whole map, as diffValues compares it (wholeAt), rather than the changes below it merged. */
  const expectWholeEmails = async (events: AuditEvent[], keys: KeyStore) => {
    const [opened] = await openEvents(events, keys)
    const emails = opened?.changes.find((change) => change.path === 'customer.emails')
    expect(JSON.parse(emails?.new_value ?? 'null')).toEqual(after.customer.emails)
  }

  it.each(['drop', 'hash', 'encrypt'])('from snapshots alone (the JSON form, %s)', async (method) => {
    const { keys } = localKeyStore()
    const line = JSON.stringify({ ...jsonLine(1), changes: [], before, after })
    const events = eventsOf(
      await readRecord(record(line), readerWith({ redaction: redaction(method), fieldKeys: keys })),
    )
    expect(pathsOf(events)).toEqual(['cards', 'customer.emails', 'customer.name'])
    expect(leaks(events)).toEqual([])
    if (method === 'encrypt') await expectWholeEmails(events, keys)
  })

  it.each(['drop', 'hash', 'encrypt'])(
    'from changes a producer wrote under the path (%s)',
    async (method) => {
      const { keys } = localKeyStore()
      const changes = [
        { path: 'cards[0].number["4111 1111 1111 1111"]', new_value: 'visa' },
        { path: `customer.emails["${address}"].verified`, old_value: true, new_value: false },
        { path: 'customer.emails["old@example.com"]', old_value: {} },
        { path: 'customer.name', old_value: 'Bob', new_value: 'Robert' },
      ]
      const line = JSON.stringify({ ...jsonLine(1), changes, before, after })
      const events = eventsOf(
        await readRecord(record(line), readerWith({ redaction: redaction(method), fieldKeys: keys })),
      )
      expect(pathsOf(events)).toEqual(['cards[0].number', 'customer.emails', 'customer.name'])
      expect(events[0]?.changes.map((change) => change.value_type)).toEqual(['object', 'object', 'string'])
      expect(leaks(events)).toEqual([])
    },
  )

  it.each(['drop', 'hash', 'encrypt'])(
    'from a Debezium row whose table lists no sensitive column (%s)',
    async (method) => {
      const { keys } = localKeyStore()
      const debezium = createDebeziumAdapter({
        tenant: 'witify',
        tables: { customers: { objectType: 'customer' } },
      })
      const row = (image: Record<string, unknown>) => ({ id: 'c-1', ...image })
      const change = {
        op: 'u',
        ts_ms: Date.parse('2024-03-16T13:00:00Z'),
        source: {
          connector: 'postgresql',
          name: 'crm-db',
          db: 'crm',
          schema: 'public',
          table: 'customers',
          ts_ms: Date.parse('2024-03-16T13:00:00Z'),
          lsn: 42,
        },
        before: row(before),
        after: row(after),
      }
      const reader = readerWith({
        adapters: [auditJsonAdapter, cloudEventsAdapter, debezium],
        redaction: redaction(method),
        fieldKeys: keys,
      })
      const events = eventsOf(
        await readRecord(record(JSON.stringify(change), { 'audit-input-format': 'debezium' }), reader),
      )
      expect(pathsOf(events)).toEqual(['cards', 'customer.emails', 'customer.name'])
      expect(leaks(events)).toEqual([])
      if (method === 'encrypt') await expectWholeEmails(events, keys)
    },
  )
})
