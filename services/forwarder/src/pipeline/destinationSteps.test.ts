import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { CodecError } from '@audit-pipeline/codec'
import { checkpointHash } from '@audit-pipeline/integrity'
import { everyEvent } from '../filter/eventFilter.js'
import { webhookFormat } from '../format/eventFormats.js'
import { createForwarderMetrics } from '../metrics.js'
import { sampleEvent } from '../testing/sampleEvent.js'
import { checkpointMessage, signedCheckpoints, testSigningKey } from '../testing/signedCheckpoints.js'
import { fakeContext, kafkaRecord, messageOf, silentLog } from '../testing/steps.js'
import { destinationSteps } from './destinationSteps.js'

/** A fake codec: the value is the event id; `poison` decodes into an event whose snapshot is too deep to redact, `garbage` does not decode. */
const codec = {
  decode: (value: Buffer) => {
    const text = value.toString()
    if (text === 'garbage')
      return Promise.reject(new CodecError('EVENT_UNDECODABLE', 'not in the Confluent wire format', false))
    const deep = `${'['.repeat(6_000)}${']'.repeat(6_000)}`
    return Promise.resolve(sampleEvent({ event_id: text, ...(text === 'poison' && { before: deep }) }))
  },
}

/** The steps with a fake context, transport and producer, all recording into one `calls` list, in order. */
function harness(options: { produce?: () => Promise<void>; input?: 'checkpoints' } = {}) {
  const { context, calls } = fakeContext()
  const registry = new Registry()
  const bodies: string[] = []
  const steps = destinationSteps(
    {
      destination: {
        name: 'hook',
        filter: everyEvent,
        projection: { include: [['event_id']], exclude: [], allowSensitive: false },
        format: webhookFormat('json_array'),
        batch: { maxEvents: 2, maxBytes: 1_000_000, maxAgeMs: 1_000 },
        retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
        breaker: { errorThresholdPercent: 50, volumeThreshold: 5, resetTimeoutMs: 10 },
        ...(options.input && { input: options.input }),
      },
      codec,
      transport: {
        send: (batch) => {
          calls.push(`send ${batch.eventIds.join(' ')}`)
          bodies.push(batch.body.toString())
          return Promise.resolve()
        },
      },
      breaker: { guard: (attempt) => attempt() },
      producer: {
        send: async (record) => {
          await (options.produce?.() ?? Promise.resolve())
          calls.push(`produce ${record.messages.map((m) => String(m.key)).join(' ')} to ${record.topic}`)
          return []
        },
      },
      deadLetterTopic: 'dlq.hook',
      maxBatchesInFlight: 4,
      metrics: createForwarderMetrics(registry),
      log: silentLog,
      now: () => Date.parse('2024-03-17T08:00:00Z'),
    },
    context,
  )
  const submit = async (partition: number, values: string[], topic = 'audit.forward') => {
    for (const [offset, value] of values.entries())
      await steps.submit(
        messageOf(kafkaRecord(offset, { partition, topic, value: Buffer.from(value) }), {
          topic,
          partition,
          offset: String(offset),
        }),
      )
  }
  const metric = async (name: string) =>
    ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0)
  return { steps, calls, bodies, submit, metric }
}

describe('destinationSteps', () => {
  it('delivers each partition in batches, dead-letters what failed before delivery, and commits each batch after its dead letters', async () => {
    const h = harness()
    await h.submit(0, ['a', 'poison', 'b', 'c'])
    await h.submit(1, ['garbage', 'x'])
    await h.steps.join()
    const calls = h.calls.filter((call) => !call.startsWith('while'))
    // Per partition in order: partition 0's first batch (a, poison, b) before its second (c).
    expect(calls.filter((call) => /send [abc]|audit.forward\/0|key-1/.test(call))).toEqual([
      'send a b',
      'produce key-1 to dlq.hook',
      'commit audit.forward/0@3',
      'send c',
      'commit audit.forward/0@4',
    ])
    expect(calls.slice(calls.indexOf('commit audit.forward/0@3'))[1]).toBe('dead letters RECORD_FAILED')
    // Partition 1: the undecodable record's dead letter, then the batch's commit.
    expect(calls.filter((call) => /send x|audit.forward\/1|key-0/.test(call))).toEqual([
      'send x',
      'produce key-0 to dlq.hook',
      'commit audit.forward/1@2',
    ])
    expect(calls.slice(calls.indexOf('commit audit.forward/1@2'))[1]).toBe('dead letters EVENT_UNDECODABLE')
    expect(h.calls.filter((call) => call === 'while schema registry')).toHaveLength(6)
    expect(await h.metric('audit_forwarder_events_delivered_total')).toBe(4)
    expect(await h.metric('audit_forwarder_events_dead_lettered_total')).toBe(2)
  })

  it('sends a checkpoints destination’s checkpoints unchanged, in batches, and dead-letters a record holding none, decoding nothing', async () => {
    const h = harness({ input: 'checkpoints' })
    const { key } = testSigningKey()
    const [a, b, c] = signedCheckpoints({ tenant: 'witify', chain: 'audit.normalized/0', count: 3, key })
    const values = [a!, b!, c!].map((checkpoint) => checkpointMessage(checkpoint).value)
    await h.submit(0, [values[0]!, 'garbage', values[1]!, values[2]!], 'audit.checkpoints')
    await h.steps.join()
    // The next batch may go out while the one before commits: each commit follows its own batch.
    expect(h.calls.filter((call) => call.startsWith('send'))).toEqual([
      `send ${checkpointHash(a!)} ${checkpointHash(b!)}`,
      `send ${checkpointHash(c!)}`,
    ])
    expect(h.calls.filter((call) => !call.startsWith('send'))).toEqual([
      'produce key-1 to dlq.hook',
      'commit audit.checkpoints/0@3',
      'dead letters CHECKPOINT_INVALID',
      'commit audit.checkpoints/0@4',
    ])
    expect(h.bodies).toEqual([`[${values[0]},${values[1]}]`, `[${values[2]}]`])
    expect(await h.metric('audit_forwarder_events_delivered_total')).toBe(3)
    expect(await h.metric('audit_forwarder_events_dead_lettered_total')).toBe(1)
  })

  it('fails, committing nothing after it, when a batch’s dead letters cannot be written', async () => {
    const h = harness({ produce: () => Promise.reject(new Error('broker gone')) })
    await h.submit(0, ['a', 'poison', 'b', 'c'])
    await expect(h.steps.join()).rejects.toThrow('broker gone')
    expect(h.calls.filter((call) => call.startsWith('commit'))).toEqual([])
    expect(h.calls.filter((call) => call.startsWith('send'))).toEqual(['send a b'])
    await h.steps.close()
  })
})
