import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import type { KafkaRecord, RecordOutcome } from '@audit-pipeline/kafka'
import type { Destination } from '../destinations/destination.js'
import { compileFilter, everyEvent } from '../filter/eventFilter.js'
import { webhookFormat } from '../format/eventFormats.js'
import { sampleEvent } from '../testing/sampleEvent.js'
import { collector, kafkaRecord, messageOf } from '../testing/steps.js'
import { prepareRecords, type ForwardItem } from './prepareRecords.js'

const destination = (
  overrides: Partial<Pick<Destination, 'filter' | 'projection' | 'format'>> = {},
): Pick<Destination, 'filter' | 'projection' | 'format'> => ({
  filter: everyEvent,
  projection: { exclude: [], allowSensitive: false },
  format: webhookFormat('json_array'),
  ...overrides,
})

/** Runs one decoded outcome through prepareRecords and returns the item it hands on. */
async function prepared(
  outcome: RecordOutcome<AuditEvent>,
  options: Parameters<typeof destination>[0] = {},
  record: KafkaRecord = kafkaRecord(7),
): Promise<{ item: ForwardItem; positions: string[] }> {
  const { step, received } = collector<ForwardItem>()
  await prepareRecords(destination(options), step).submit(messageOf({ input: record, outcome }, record))
  expect(received).toHaveLength(1)
  return { item: received[0]!.payload, positions: received[0]!.positions }
}

const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`

describe('prepareRecords', () => {
  it('formats a wanted event, redacted, keeping its record for a dead letter', async () => {
    const record = kafkaRecord(7)
    const { item, positions } = await prepared({ ok: true, value: sampleEvent() }, {}, record)
    expect(positions).toEqual(['audit.forward/0@8'])
    expect(item).toMatchObject({ kind: 'send', eventId: sampleEvent().event_id, record })
    if (item.kind !== 'send') throw new Error('expected send')
    expect(item.bytes).toBe(Buffer.byteLength(item.entry))
    expect(item.entry).not.toContain('Use Save as PDF')
  })

  it('skips what the filter does not want, and dead-letters what it cannot decide on', async () => {
    const security = compileFilter('event.category == "security"')
    expect(
      (await prepared({ ok: true, value: sampleEvent({ category: 'business' }) }, { filter: security })).item,
    ).toEqual({ kind: 'skip' })
    const region = compileFilter('event.attributes.region == "eu"')
    expect((await prepared({ ok: true, value: sampleEvent() }, { filter: region })).item).toMatchObject({
      kind: 'deadLetter',
      failure: { errorClass: 'FILTER_FAILED', message: 'filter: No such key: region' },
    })
  })

  it('dead-letters a decode failure with its class', async () => {
    const failure = { errorClass: 'SCHEMA_UNKNOWN', message: 'no schema with id 9' }
    expect((await prepared({ ok: false, failure })).item).toMatchObject({ kind: 'deadLetter', failure })
  })

  it('dead-letters a record whose projection throws as RECORD_FAILED, the error code as reason', async () => {
    // A snapshot nested past the shared limit: redacting it for the destination refuses to walk it.
    const event = sampleEvent({ before: deep(6_000) })
    const { item } = await prepared({ ok: true, value: event })
    expect(item).toMatchObject({
      kind: 'deadLetter',
      failure: { errorClass: 'RECORD_FAILED', reason: 'TOO_DEEP' },
    })
  })

  it('dead-letters whatever a format throws, a retriable-looking error included: preparing never holds the partition', async () => {
    const throwing = (error: unknown) => ({
      ...webhookFormat('json_array'),
      entry: () => {
        throw error
      },
    })
    expect(
      (
        await prepared(
          { ok: true, value: sampleEvent() },
          { format: throwing(new TypeError('x is undefined')) },
        )
      ).item,
    ).toMatchObject({
      kind: 'deadLetter',
      failure: {
        errorClass: 'RECORD_FAILED',
        reason: 'TYPE_ERROR',
        message: 'processing the record failed: TypeError: x is undefined',
      },
    })
    const outageLike = Object.assign(new Error('down'), { code: 'SOMETHING_UNAVAILABLE', retriable: true })
    expect(
      (await prepared({ ok: true, value: sampleEvent() }, { format: throwing(outageLike) })).item,
    ).toMatchObject({
      kind: 'deadLetter',
      failure: { errorClass: 'RECORD_FAILED', reason: 'ERROR' },
    })
  })
})
