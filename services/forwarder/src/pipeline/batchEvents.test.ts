import { describe, expect, it } from 'vitest'
import { collector, kafkaRecord, messageOf } from '../testing/steps.js'
import { batchEvents, type EventBatch } from './batchEvents.js'
import type { ForwardItem } from './prepareRecords.js'

type Entry = { offset: number; partition?: number; item: ForwardItem }

const send = (offset: number, bytes = 10, partition = 0): Entry => ({
  offset,
  partition,
  item: {
    kind: 'send',
    record: kafkaRecord(offset, { partition }),
    eventId: `e-${offset}`,
    entry: 'x'.repeat(bytes),
    bytes,
  },
})
const skip = (offset: number, partition = 0): Entry => ({ offset, partition, item: { kind: 'skip' } })
const deadLetter = (offset: number, partition = 0): Entry => ({
  offset,
  partition,
  item: {
    kind: 'deadLetter',
    record: kafkaRecord(offset, { partition, value: Buffer.alloc(100) }),
    failure: { errorClass: 'EVENT_UNDECODABLE', message: 'bad' },
  },
})

function harness(limits: { maxEvents: number; maxBytes: number; maxAgeMs?: number }) {
  let nowMs = 0
  const { step, received, calls } = collector<EventBatch>()
  const batches = batchEvents({ maxAgeMs: 1_000, ...limits }, step, () => nowMs)
  return {
    batches,
    calls,
    advance: (ms: number) => (nowMs += ms),
    async submit(...entries: Entry[]) {
      for (const { offset, partition = 0, item } of entries) {
        const record = kafkaRecord(offset, { partition })
        await batches.submit(messageOf(item, record))
      }
    },
    /** Each batch handed on: its sent offsets, dead-lettered offsets, skipped count and committed positions. */
    summary: () =>
      received.map(({ payload, positions }) => ({
        sends: payload.sends.map((s) => s.record.offset),
        deadLetters: payload.deadLetters.map((d) => d.record.offset),
        skipped: payload.skipped,
        commits: positions,
      })),
    received,
  }
}

describe('batchEvents', () => {
  it('closes by event count, each batch committing the offset after its last record', async () => {
    const h = harness({ maxEvents: 2, maxBytes: 1_000 })
    await h.submit(send(5), send(6), send(7), send(8), send(9))
    await h.batches.join()
    expect(h.summary().map((b) => [b.sends, b.commits])).toEqual([
      [['5', '6'], ['audit.forward/0@7']],
      [['7', '8'], ['audit.forward/0@9']],
      [['9'], ['audit.forward/0@10']],
    ])
    expect(h.calls).toEqual(['join'])
  })

  it('closes by bytes before an event would pass the limit, and sends a larger event alone', async () => {
    const h = harness({ maxEvents: 100, maxBytes: 100 })
    await h.submit(send(0, 40), send(1, 40), send(2, 500), send(3, 10))
    await h.batches.join()
    expect(h.summary().map((b) => b.sends)).toEqual([['0', '1'], ['2'], ['3']])
    expect(h.received.map((r) => r.payload.bytes)).toEqual([80, 500, 10])
  })

  it('carries skipped and dead-lettered records in the batch they fall in, so commits cover them', async () => {
    const h = harness({ maxEvents: 2, maxBytes: 1_000 })
    await h.submit(skip(0), deadLetter(1), send(2), skip(3), send(4), skip(5), send(6))
    await h.batches.join()
    expect(h.summary()).toEqual([
      { sends: ['2', '4'], deadLetters: ['1'], skipped: 2, commits: ['audit.forward/0@5'] },
      { sends: ['6'], deadLetters: [], skipped: 1, commits: ['audit.forward/0@7'] },
    ])
  })

  it('hands on a batch with nothing to send, so its offsets are committed too', async () => {
    const h = harness({ maxEvents: 10, maxBytes: 10 })
    await h.submit(skip(41), skip(42))
    await h.batches.join()
    expect(h.summary()).toEqual([{ sends: [], deadLetters: [], skipped: 2, commits: ['audit.forward/0@43'] }])
  })

  it('bounds the dead letters a batch holds by the same count', async () => {
    const h = harness({ maxEvents: 2, maxBytes: 1_000_000 })
    await h.submit(deadLetter(0), deadLetter(1), deadLetter(2))
    expect(h.summary()).toEqual([
      { sends: [], deadLetters: ['0', '1'], skipped: 0, commits: ['audit.forward/0@2'] },
    ])
  })

  it('keeps one batch per partition: a batch never mixes partitions', async () => {
    const h = harness({ maxEvents: 2, maxBytes: 1_000 })
    await h.submit(send(0, 10, 0), send(0, 10, 1), send(1, 10, 0), send(1, 10, 1), send(2, 10, 1))
    await h.batches.join()
    expect(h.received.map((r) => [r.payload.partition, r.payload.partitionKey, r.positions])).toEqual([
      [0, 'audit.forward\u00000', ['audit.forward/0@2']],
      [1, 'audit.forward\u00001', ['audit.forward/1@2']],
      [1, 'audit.forward\u00001', ['audit.forward/1@3']],
    ])
  })

  it('closes a batch on poll once maxAgeMs passed since its first record, time injected', async () => {
    const h = harness({ maxEvents: 100, maxBytes: 1_000, maxAgeMs: 50 })
    await h.submit(send(0, 10, 0))
    h.advance(30)
    await h.submit(send(0, 10, 1))
    h.advance(19)
    await h.batches.poll()
    expect(h.received).toEqual([])
    h.advance(1)
    await h.batches.poll()
    expect(h.summary().map((b) => b.commits)).toEqual([['audit.forward/0@1']])
    h.advance(30)
    await h.batches.poll()
    expect(h.summary().map((b) => b.commits)).toEqual([['audit.forward/0@1'], ['audit.forward/1@1']])
    expect(h.calls).toEqual(['poll', 'poll', 'poll'])
  })

  it('drops what it holds on close, handing nothing on', async () => {
    const h = harness({ maxEvents: 100, maxBytes: 1_000 })
    await h.submit(send(0), skip(1))
    await h.batches.close()
    await h.batches.join()
    expect(h.received).toEqual([])
    expect(h.calls).toEqual(['close', 'join'])
  })
})
