import type { Message } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '@audit-pipeline/event-model'
import { committableOf, fakeRuntimeContext, type KafkaRecord } from '@audit-pipeline/kafka'
import { createLogger } from '@audit-pipeline/service-runtime'
import { consumedMessage, deadLetterMessage, sampleConflict } from '../testSupport/deadLetters.js'
import { createAlertingMetrics } from '../metrics.js'
import { conflictSteps } from './conflictSteps.js'

const log = createLogger({ service: 'alerting-test', level: 'silent' })

const record = (offset: number, message: Message): KafkaRecord => ({
  topic: 'audit.dlq',
  partition: 0,
  offset: String(offset),
  timestamp: '1772442000000',
  ...consumedMessage(message),
})

/** The steps with a fake runtime context and a `send` that records what it was given (or fails). */
function stepsWith(
  options: { encode?: (event: AuditEvent) => Buffer; send?: (messages: Message[]) => Promise<void> } = {},
) {
  const { context, calls } = fakeRuntimeContext(log)
  const registry = new Registry()
  const events: AuditEvent[] = []
  const steps = conflictSteps(
    {
      codec: {
        encode:
          options.encode ??
          ((event) => {
            events.push(event)
            return Buffer.from(event.event_id)
          }),
      },
      send: async (messages) => {
        calls.push(`send ${messages.length}`)
        await options.send?.(messages)
      },
      metrics: createAlertingMetrics(registry),
      log,
    },
    context,
  )
  const submit = (input: KafkaRecord) => steps.submit({ payload: input, committable: committableOf(input) })
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    ((await registry.getSingleMetric(name)?.get())?.values ?? [])
      .filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
      .reduce((sum, value) => sum + value.value, 0)
  return { steps, submit, calls, events, metric }
}

describe('conflict alert steps', () => {
  it('write one alert per EVENT_ID_CONFLICT dead letter, skip the others, and commit once Kafka acknowledged', async () => {
    const harness = stepsWith()
    const notADeadLetter: Message = { key: null, value: Buffer.from('x'), headers: {} }
    await harness.submit(record(10, deadLetterMessage({ errorClass: 'EVENT_INVALID' })))
    await harness.submit(record(11, deadLetterMessage({ conflict: sampleConflict })))
    await harness.submit(record(12, notADeadLetter))
    await harness.submit(record(13, deadLetterMessage({ errorClass: 'EVENT_ID_CONFLICT' })))
    expect(harness.calls).toEqual([])
    // After each fetch the runtime polls: the batch is written, then committed.
    await harness.steps.poll()
    expect(harness.calls).toEqual(['send 1', 'commit audit.dlq/0@14'])
    expect(harness.events.map((event) => [event.tenant, event.attributes['alert.rule']])).toEqual([
      ['acme', 'pipeline.event-id-conflict'],
    ])
    expect(await harness.metric('audit_alerting_conflict_alerts_total')).toBe(1)
    expect(
      await harness.metric('audit_alerting_dead_letters_unreadable_total', { reason: 'NOT_A_DEAD_LETTER' }),
    ).toBe(1)
    expect(
      await harness.metric('audit_alerting_dead_letters_unreadable_total', { reason: 'CONFLICT_INVALID' }),
    ).toBe(1)
  })

  it('a batch without conflicts is committed without writing', async () => {
    const harness = stepsWith()
    await harness.submit(record(3, deadLetterMessage({ errorClass: 'EVENT_INVALID' })))
    await harness.steps.join()
    expect(harness.calls).toEqual(['commit audit.dlq/0@4'])
  })

  it('a write Kafka did not acknowledge fails the steps with nothing committed: the runtime reads it again', async () => {
    const harness = stepsWith({ send: () => Promise.reject(new Error('NOT_ENOUGH_REPLICAS')) })
    await harness.submit(record(5, deadLetterMessage({ conflict: sampleConflict })))
    await expect(harness.steps.poll()).rejects.toThrow('NOT_ENOUGH_REPLICAS')
    expect(harness.calls).toEqual(['send 1'])
    expect(await harness.metric('audit_alerting_conflict_alerts_total')).toBe(0)
  })

  it('an alert that cannot be encoded is counted and skipped; the partition goes on', async () => {
    const harness = stepsWith({
      encode: () => {
        throw new RangeError('too large')
      },
    })
    await harness.submit(record(8, deadLetterMessage({ conflict: sampleConflict })))
    await harness.steps.join()
    expect(harness.calls).toEqual(['commit audit.dlq/0@9'])
    expect(
      await harness.metric('audit_alerting_dead_letters_unreadable_total', { reason: 'RECORD_FAILED' }),
    ).toBe(1)
  })

  it('the same dead letter read twice writes byte-identical alerts', async () => {
    const written: Message[] = []
    const encodeAsJson = (event: AuditEvent) => Buffer.from(JSON.stringify(event))
    for (let run = 0; run < 2; run++) {
      const harness = stepsWith({
        encode: encodeAsJson,
        send: (messages) => {
          written.push(...messages)
          return Promise.resolve()
        },
      })
      await harness.submit(record(11, deadLetterMessage({ conflict: sampleConflict })))
      await harness.steps.join()
    }
    expect(written).toHaveLength(2)
    expect(written[1]).toEqual(written[0])
  })
})
