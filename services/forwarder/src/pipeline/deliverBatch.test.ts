import type { Message, ProducerRecord } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { readDeadLetter } from '@audit-pipeline/dead-letter'
import { DeliveryError } from '../delivery/deliveryError.js'
import { webhookFormat } from '../format/eventFormats.js'
import { createForwarderMetrics } from '../metrics.js'
import { kafkaRecord, silentLog } from '../testing/steps.js'
import type { EventBatch } from './batchEvents.js'
import { deliverBatch, type DeliverBatchOptions } from './deliverBatch.js'

const nowMs = Date.parse('2024-03-17T08:00:00Z')

function batchOf(sends: number[], deadLetters: number[] = [], skipped = 0): EventBatch {
  return {
    topic: 'audit.forward',
    partition: 0,
    partitionKey: 'audit.forward\u00000',
    sends: sends.map((offset) => ({
      kind: 'send' as const,
      record: kafkaRecord(offset),
      eventId: `e-${offset}`,
      entry: `{"event_id":"e-${offset}"}`,
      bytes: 20,
    })),
    deadLetters: deadLetters.map((offset) => ({
      kind: 'deadLetter' as const,
      record: kafkaRecord(offset),
      failure: { errorClass: 'RECORD_FAILED', reason: 'TOO_DEEP', message: 'before nests too deep' },
    })),
    skipped,
    bytes: 20 * sends.length,
    deadLetterBytes: 0,
  }
}

/**
 * deliverBatch with a fake transport and producer. `calls` records, in order: each attempt
 * (`send <batch id prefix> <event ids>`) and each dead-letter request (`dead letters <count>`).
 */
function harness(
  options: { answer?: (attempt: number) => Promise<void>; produce?: () => Promise<void> } = {},
) {
  const calls: string[] = []
  const produced: Message[] = []
  const registry = new Registry()
  const metrics = createForwarderMetrics(registry)
  const aborting = new AbortController()
  let attempts = 0
  const settings: DeliverBatchOptions = {
    destination: {
      name: 'hook',
      format: webhookFormat('json_array'),
      retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      breaker: { errorThresholdPercent: 50, volumeThreshold: 5, resetTimeoutMs: 10 },
    },
    transport: {
      send: (batch) => {
        calls.push(`send ${batch.body.toString()}`)
        return options.answer?.(++attempts) ?? Promise.resolve()
      },
    },
    breaker: { guard: (attempt) => attempt() },
    producer: {
      send: async (record: ProducerRecord) => {
        calls.push(`dead letters ${record.messages.length} to ${record.topic} acks ${record.acks}`)
        await (options.produce?.() ?? Promise.resolve())
        produced.push(...record.messages)
        return []
      },
    },
    deadLetterTopic: 'audit.forward.dlq.hook',
    metrics,
    log: silentLog,
    signal: aborting.signal,
    now: () => nowMs,
  }
  const metric = async (name: string, labels: Record<string, string>) =>
    ((await registry.getSingleMetric(name)?.get())?.values ?? [])
      .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
      .reduce((sum, v) => sum + v.value, 0)
  const letters = () =>
    produced.map((message, offset) =>
      readDeadLetter(
        { key: message.key as Buffer, value: message.value as Buffer, headers: message.headers ?? {} },
        { topic: 'audit.forward.dlq.hook', partition: 0, offset: String(offset) },
      ),
    )
  return { deliver: deliverBatch(settings), calls, metric, letters, abort: () => aborting.abort() }
}

const unavailable = () =>
  new DeliveryError('DESTINATION_UNAVAILABLE', 'HTTP 503: maintenance', { reason: 'HTTP_503' })

describe('deliverBatch', () => {
  it('delivers the events in one body, then writes the dead letters of the records that failed before delivery', async () => {
    const h = harness()
    const finished = await h.deliver(batchOf([1, 2], [3], 4))
    expect(h.calls).toEqual([
      'send [{"event_id":"e-1"},{"event_id":"e-2"}]',
      'dead letters 1 to audit.forward.dlq.hook acks -1',
    ])
    expect(finished).toEqual({
      outcome: 'delivered',
      delivered: 2,
      skipped: 4,
      deadLettered: [
        {
          topic: 'audit.forward',
          partition: 0,
          offset: '3',
          failure: { errorClass: 'RECORD_FAILED', reason: 'TOO_DEEP', message: 'before nests too deep' },
        },
      ],
    })
    expect(h.letters()).toMatchObject([
      {
        errorClass: 'RECORD_FAILED',
        reason: 'TOO_DEEP',
        service: 'forwarder:hook',
        source: { topic: 'audit.forward', partition: 0, offset: '3' },
      },
    ])
    expect(
      await h.metric('audit_forwarder_events_dead_lettered_total', { error_class: 'RECORD_FAILED' }),
    ).toBe(1)
  })

  it('dead-letters every event of a batch the destination did not take once retries are spent, with the last error', async () => {
    const h = harness({ answer: () => Promise.reject(unavailable()) })
    const finished = await h.deliver(batchOf([1, 2]))
    expect(h.calls).toEqual([
      'send [{"event_id":"e-1"},{"event_id":"e-2"}]',
      'send [{"event_id":"e-1"},{"event_id":"e-2"}]',
      'dead letters 2 to audit.forward.dlq.hook acks -1',
    ])
    expect(finished).toMatchObject({ outcome: 'dead_lettered', delivered: 0 })
    expect(h.letters().map((l) => [l.source.offset, l.errorClass, l.reason, l.message])).toEqual([
      ['1', 'DESTINATION_UNAVAILABLE', 'HTTP_503', 'HTTP 503: maintenance (gave up after 2 attempts)'],
      ['2', 'DESTINATION_UNAVAILABLE', 'HTTP_503', 'HTTP 503: maintenance (gave up after 2 attempts)'],
    ])
    expect(await h.metric('audit_forwarder_delivery_retries_total', { reason: 'HTTP_503' })).toBe(1)
    expect(
      await h.metric('audit_forwarder_events_dead_lettered_total', {
        error_class: 'DESTINATION_UNAVAILABLE',
      }),
    ).toBe(2)
  })

  it('sends nothing for a batch with nothing to send or dead-letter', async () => {
    const h = harness()
    expect(await h.deliver(batchOf([], [], 3))).toEqual({
      outcome: 'none',
      delivered: 0,
      skipped: 3,
      deadLettered: [],
    })
    expect(h.calls).toEqual([])
  })

  it('fails when the dead letters cannot be written, so nothing is committed and the batch is read again', async () => {
    const h = harness({ produce: () => Promise.reject(new Error('KafkaJSNumberOfRetriesExceeded')) })
    await expect(h.deliver(batchOf([1], [2]))).rejects.toThrow('KafkaJSNumberOfRetriesExceeded')
    expect(await h.metric('audit_forwarder_events_dead_lettered_total', {})).toBe(0)
  })

  it('stops when the runtime aborts (stop deadline, restart), dead-lettering nothing', async () => {
    const h = harness({ answer: () => Promise.reject(unavailable()) })
    h.abort()
    await expect(h.deliver(batchOf([1], [2]))).rejects.toThrow()
    expect(h.calls).toEqual([])
  })
})
