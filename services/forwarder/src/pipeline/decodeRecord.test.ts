import { describe, expect, it } from 'vitest'
import { CodecError } from '@audit-pipeline/codec'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { runTask, type Processed } from '@audit-pipeline/kafka'
import { sampleEvent } from '../testing/sampleEvent.js'
import { collector, fakeContext, kafkaRecord, messageOf } from '../testing/steps.js'
import { decodeRecord } from './decodeRecord.js'

const registryDown = () =>
  new CodecError('REGISTRY_UNAVAILABLE', 'schema registry error: connect ECONNREFUSED', true)

describe('decodeRecord', () => {
  it('decodes through the runtime, which holds the partition while the registry is down', async () => {
    const attempts: string[] = []
    const { context, calls } = fakeContext({
      // The runtime retries outages until the work goes through; here, the second attempt does.
      whileUnavailable: async (what, work) => {
        calls.push(`while ${what}`)
        try {
          return await work()
        } catch (error) {
          attempts.push((error as CodecError).code)
          return work()
        }
      },
    })
    let decodes = 0
    const codec = {
      decode: (value: Buffer) =>
        ++decodes === 1
          ? Promise.reject(registryDown())
          : Promise.resolve(sampleEvent({ event_id: value.toString() })),
    }
    const event = await decodeRecord(codec, context)(kafkaRecord(3, { value: Buffer.from('id-3') }))
    expect(event.event_id).toBe('id-3')
    expect(calls).toEqual(['while schema registry'])
    expect(attempts).toEqual(['REGISTRY_UNAVAILABLE'])
  })

  it('under runTask: a tombstone and an undecodable value become their record failures, and the next record goes on', async () => {
    const { context } = fakeContext()
    const codec = {
      decode: (value: Buffer) =>
        value.toString() === 'garbage'
          ? Promise.reject(new CodecError('EVENT_UNDECODABLE', 'not in the Confluent wire format', false))
          : Promise.resolve(sampleEvent()),
    }
    const { step, received } = collector<Processed<ReturnType<typeof kafkaRecord>, AuditEvent>>()
    const decode = runTask(decodeRecord(codec, context), step)
    const records = [
      kafkaRecord(0, { value: null }),
      kafkaRecord(1, { value: Buffer.from('garbage') }),
      kafkaRecord(2),
    ]
    for (const record of records) await decode.submit(messageOf(record, record))
    expect(received.map((r) => [r.positions, r.payload.outcome])).toEqual([
      [
        ['audit.forward/0@1'],
        {
          ok: false,
          failure: { errorClass: 'EVENT_UNDECODABLE', message: 'a null value (tombstone) holds no event' },
        },
      ],
      [
        ['audit.forward/0@2'],
        {
          ok: false,
          failure: { errorClass: 'EVENT_UNDECODABLE', message: 'not in the Confluent wire format' },
        },
      ],
      [['audit.forward/0@3'], { ok: true, value: sampleEvent() }],
    ])
  })

  it('lets an outage the runtime gave up on (stop) through: it never dead-letters a record', async () => {
    const { context } = fakeContext()
    const codec = { decode: () => Promise.reject(registryDown()) }
    const { step, received } = collector<Processed<ReturnType<typeof kafkaRecord>, AuditEvent>>()
    const record = kafkaRecord(0)
    await expect(
      runTask(decodeRecord(codec, context), step).submit(messageOf(record, record)),
    ).rejects.toThrow(CodecError)
    expect(received).toEqual([])
  })
})
