import type { IHeaders, KafkaMessage, Message, TopicMessages } from 'kafkajs'
import { CodecError } from '@audit-pipeline/codec'
import { readDeadLetter, type DeadLetter } from '@audit-pipeline/dead-letter'
import { defaultEventPolicy, parseEventJson, type AuditEvent } from '@audit-pipeline/event-model'
import { partitionKeyFor } from '@audit-pipeline/producer'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger } from '@audit-pipeline/service-runtime'
import { describe, expect, it, vi } from 'vitest'
import { auditJsonAdapter } from '../adapters/auditJsonAdapter.js'
import { cloudEventsAdapter } from '../adapters/cloudEventsAdapter.js'
import { defaultRedactionPolicy } from '../redaction/redactionPolicy.js'
import { parseRoutes } from '../routing/parseRoutes.js'
import type { FlushTally } from './pendingFlush.js'
import { processBatch, type BatchContext, type BatchControl } from './processBatch.js'

const topic = 'audit.events'
const partition = 3
/** When the input messages reached Kafka: after every event of the story. */
const receivedAtMs = Date.parse('2024-03-16T14:00:00Z')
const now = new Date('2024-03-17T08:00:00Z')

/** Ticket 9548-B1's priority raised (schemas/examples), under event id number `n`: one JSON line per `n`. */
function ticketJson(n: number): Record<string, unknown> {
  const event = JSON.parse(ticketExampleLines()[1] ?? '') as Record<string, unknown>
  return { ...event, event_id: eventId(n) }
}

const eventId = (n: number) => `0d9d5c1e-6a1f-4f0e-9b7a-${String(n).padStart(12, '0')}`

/** What the codec decodes `avroValue(n)` into. */
const decodedEvent = (n: number): AuditEvent => ({
  ...parseEventJson(ticketJson(n)),
  recorded_at: receivedAtMs,
})

/** The Confluent wire format as far as the normalizer looks: magic byte 0, then the fake codec's event number. */
const avroValue = (n: number) => Buffer.from([0, 0, 0, 0, 1, n])

/** The fake codec: the event numbered by the value's last byte. */
const decodeAvro = (value: Buffer) => Promise.resolve(decodedEvent(value.at(-1) ?? 0))

const outage = () =>
  new CodecError('REGISTRY_UNAVAILABLE', 'schema registry error: connect ECONNREFUSED', true)

/** A message as kafkajs hands it to eachBatch. */
function kafkaMessage(
  offset: number,
  value: Buffer | string | null,
  extra: { key?: Buffer; headers?: IHeaders } = {},
): KafkaMessage {
  return {
    offset: String(offset),
    timestamp: String(receivedAtMs),
    key: extra.key ?? null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: extra.headers ?? {},
    attributes: 0,
  }
}

/** A JSON-form message at `offset` carrying event number `offset`. */
const jsonMessage = (offset: number) => kafkaMessage(offset, JSON.stringify(ticketJson(offset)))
/** An Avro message at `offset` carrying event number `offset`. */
const avroMessage = (offset: number) => kafkaMessage(offset, avroValue(offset))

const routes = parseRoutes(
  `
routes:
  - name: security
    match: { category: security }
    to: [audit.normalized, audit.forward]
default:
  to: [audit.normalized]
`,
  { file: 'routes.yaml' },
)

/** A stand-in for the Avro encoder: deterministic bytes the test can read back. */
const encode = (event: AuditEvent) => Buffer.from(JSON.stringify(event))

type Options = {
  decodeAvro?: (value: Buffer) => Promise<AuditEvent>
  send?: BatchContext['send']
  commit?: BatchContext['commit']
  context?: Partial<Pick<BatchContext, 'routes' | 'dedup' | 'deadLetterTopic' | 'flushMaxBytes'>>
  control?: Partial<Pick<BatchControl, 'isRunning' | 'isStale'>>
}

/**
 * processBatch with every Kafka call faked. `log` records the calls that matter for delivery, in
 * the order they happen: send, commit <offset>, resolve <offset>, remember <count>, flushed,
 * heartbeat, retry <attempt>. Each fake is returned as a mock to inspect.
 */
function harness(messages: KafkaMessage[], options: Options = {}) {
  const log: string[] = []
  const sent: TopicMessages[][] = []
  const remembered = new Set<string>()
  const tallies: FlushTally[] = []
  const stopping = new AbortController()
  const fakes = {
    decodeAvro: vi.fn(options.decodeAvro ?? decodeAvro),
    send: vi.fn<BatchContext['send']>(
      options.send ??
        ((topicMessages) => {
          log.push('send')
          sent.push(topicMessages)
          return Promise.resolve()
        }),
    ),
    commit: vi.fn<BatchContext['commit']>(
      options.commit ??
        ((_topic, _partition, offset) => {
          log.push(`commit ${offset}`)
          return Promise.resolve()
        }),
    ),
    onFlushed: vi.fn<BatchContext['onFlushed']>((flush) => {
      log.push('flushed')
      tallies.push(flush.tally)
    }),
    onRegistryRetry: vi.fn<BatchContext['onRegistryRetry']>((_error, attempt) => {
      log.push(`retry ${attempt}`)
    }),
    resolveOffset: vi.fn<BatchControl['resolveOffset']>((offset) => {
      log.push(`resolve ${offset}`)
    }),
    heartbeat: vi.fn<BatchControl['heartbeat']>(() => {
      log.push('heartbeat')
      return Promise.resolve()
    }),
  }
  const context: BatchContext = {
    reader: {
      decodeAvro: fakes.decodeAvro,
      adapters: [auditJsonAdapter, cloudEventsAdapter],
      policy: defaultEventPolicy,
      redaction: defaultRedactionPolicy,
      maxEventBytes: 1_000_000,
    },
    routes: () => routes,
    encode,
    dedup: {
      has: (id) => remembered.has(id),
      remember(ids) {
        const list = [...ids]
        log.push(`remember ${list.length}`)
        for (const id of list) remembered.add(id)
      },
      get size() {
        return remembered.size
      },
    },
    deadLetterTopic: 'audit.dlq',
    maxEventBytes: 1_000_000,
    flushMaxBytes: 786_432,
    send: fakes.send,
    commit: fakes.commit,
    stopping: stopping.signal,
    registryBackoff: { initialDelayMs: 1, maxDelayMs: 2, multiplier: 1 },
    onFlushed: fakes.onFlushed,
    onRegistryRetry: fakes.onRegistryRetry,
    log: createLogger({ service: 'normalizer', level: 'silent' }),
    now: () => now,
    ...options.context,
  }
  const lastOffset = Number(messages.at(-1)?.offset ?? '0')
  const control: BatchControl = {
    batch: { topic, partition, messages, highWatermark: String(lastOffset + 1) },
    resolveOffset: fakes.resolveOffset,
    heartbeat: fakes.heartbeat,
    isRunning: () => true,
    isStale: () => false,
    ...options.control,
  }
  return {
    ...fakes,
    log,
    sent,
    remembered,
    tallies,
    stopping,
    context,
    run: () => processBatch(control, context),
  }
}

/** [topic, event id] of every event message in one send request. */
function sentEvents(request: TopicMessages[] | undefined): [string, string][] {
  return (request ?? []).flatMap(({ topic: sentTo, messages }) =>
    messages.map((message): [string, string] => [
      sentTo,
      (JSON.parse(String(message.value)) as AuditEvent).event_id,
    ]),
  )
}

/** The size a flush counts for one output message (pendingFlush.ts). */
const requestBytes = (request: TopicMessages[]) =>
  request
    .flatMap((t) => t.messages)
    .reduce((sum, m) => sum + String(m.key).length + String(m.value).length + 64, 0)

/** The one dead letter of a send request, read back as a consumer of `deadLetterTopic` would. */
function deadLetterIn(request: TopicMessages[] | undefined, deadLetterTopic: string): DeadLetter {
  const messages = (request ?? []).filter((t) => t.topic === deadLetterTopic).flatMap((t) => t.messages)
  if (messages.length !== 1) throw new Error(`expected one dead letter, got ${messages.length}`)
  const [message] = messages as [Message]
  const bytes = (value: Buffer | string | null | undefined) =>
    value === undefined || value === null ? null : Buffer.from(value)
  return readDeadLetter(
    { key: bytes(message.key), value: bytes(message.value), headers: message.headers ?? {} },
    { topic: deadLetterTopic, partition: 0, offset: '0' },
  )
}

/** Settles every promise callback already queued, without waiting on a timer. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('processBatch: send, then commit', () => {
  it('sends the batch, then commits the offset after its last message, resolves it and remembers the ids', async () => {
    const h = harness([jsonMessage(10), jsonMessage(11), jsonMessage(12)])
    expect(await h.run()).toBe('13')
    expect(h.log).toEqual(['send', 'commit 13', 'resolve 12', 'remember 3', 'flushed', 'heartbeat'])
    expect(h.commit).toHaveBeenCalledExactlyOnceWith(topic, partition, '13')
    expect(h.resolveOffset).toHaveBeenCalledExactlyOnceWith('12')
    expect(sentEvents(h.sent[0])).toEqual([10, 11, 12].map((n) => ['audit.normalized', eventId(n)]))
    const [message] = h.sent[0]?.[0]?.messages ?? []
    expect(message?.key?.toString()).toBe(partitionKeyFor(decodedEvent(10)))
    expect(message?.headers?.['audit-route']?.toString()).toBe('default')
    expect([...h.remembered]).toEqual([10, 11, 12].map(eventId))
  })

  it('commits nothing and remembers nothing until the send is acknowledged', async () => {
    let acknowledge: () => void = () => undefined
    let sendStarted: () => void = () => undefined
    const started = new Promise<void>((resolve) => (sendStarted = resolve))
    const h = harness([jsonMessage(10), jsonMessage(11)], {
      send: () => {
        sendStarted()
        return new Promise<void>((resolve) => (acknowledge = resolve))
      },
    })
    const result = h.run()
    await started
    await settle()
    expect(h.commit).not.toHaveBeenCalled()
    expect(h.resolveOffset).not.toHaveBeenCalled()
    expect(h.remembered.size).toBe(0)
    acknowledge()
    expect(await result).toBe('12')
    expect(h.log).toEqual(['commit 12', 'resolve 11', 'remember 2', 'flushed', 'heartbeat'])
  })

  it('commits nothing when the send fails, lets the error out, and sends everything again on the next read', async () => {
    const failure = new Error('KafkaJSNumberOfRetriesExceeded')
    const messages = [jsonMessage(10), jsonMessage(11)]
    const failing = harness(messages, { send: () => Promise.reject(failure) })
    await expect(failing.run()).rejects.toBe(failure)
    expect(failing.commit).not.toHaveBeenCalled()
    expect(failing.resolveOffset).not.toHaveBeenCalled()
    expect(failing.onFlushed).not.toHaveBeenCalled()
    expect(failing.remembered.size).toBe(0)

    // The same dedup window (nothing in it) reads the batch again: nothing is dropped as a duplicate.
    const again = harness(messages, { context: { dedup: failing.context.dedup } })
    expect(await again.run()).toBe('12')
    expect(sentEvents(again.sent[0])).toEqual([10, 11].map((n) => ['audit.normalized', eventId(n)]))
  })

  it('resolves nothing when the commit fails', async () => {
    const failure = new Error('The coordinator is not aware of this member')
    const h = harness([jsonMessage(10)], { commit: () => Promise.reject(failure) })
    await expect(h.run()).rejects.toBe(failure)
    expect(h.resolveOffset).not.toHaveBeenCalled()
  })

  it('commits a batch of tombstones without sending anything', async () => {
    const h = harness([kafkaMessage(20, null), kafkaMessage(21, null)])
    expect(await h.run()).toBe('22')
    expect(h.send).not.toHaveBeenCalled()
    expect(h.log).toEqual(['commit 22', 'resolve 21', 'remember 0', 'flushed', 'heartbeat'])
    expect(Object.fromEntries(h.tallies[0]?.skipped ?? [])).toEqual({ TOMBSTONE: 2 })
  })

  it('sends an event to every topic of its route, and reports the flush', async () => {
    const security = { ...ticketJson(10), category: 'security' }
    const h = harness([kafkaMessage(10, JSON.stringify(security)), jsonMessage(11)])
    await h.run()
    expect(sentEvents(h.sent[0])).toEqual([
      ['audit.normalized', eventId(10)],
      ['audit.normalized', eventId(11)],
      ['audit.forward', eventId(10)],
    ])
    expect(h.onFlushed).toHaveBeenCalledWith(expect.anything(), topic, partition, expect.any(Number))
    expect(Object.fromEntries(h.tallies[0]?.produced ?? [])).toEqual({
      'security\taudit.normalized': 1,
      'security\taudit.forward': 1,
      'default\taudit.normalized': 1,
    })
  })

  it('reads the routes per message, so a reload applies from the next message', async () => {
    const reloaded = parseRoutes('default:\n  to: [audit.reloaded]\n', { file: 'routes.yaml' })
    const tables = [routes, reloaded]
    const h = harness([jsonMessage(10), jsonMessage(11)], {
      context: { routes: () => tables.shift() ?? reloaded },
    })
    await h.run()
    expect(sentEvents(h.sent[0])).toEqual([
      ['audit.normalized', eventId(10)],
      ['audit.reloaded', eventId(11)],
    ])
  })
})

describe('processBatch: duplicates', () => {
  it('drops an event whose id went out recently, counting it', async () => {
    const h = harness([jsonMessage(10), jsonMessage(11)])
    h.remembered.add(eventId(10))
    expect(await h.run()).toBe('12')
    expect(sentEvents(h.sent[0])).toEqual([['audit.normalized', eventId(11)]])
    expect(h.tallies[0]?.duplicates).toBe(1)
  })

  it('sends an event repeated in two messages of one batch once', async () => {
    const repeated = kafkaMessage(11, JSON.stringify(ticketJson(10)))
    const h = harness([jsonMessage(10), repeated, jsonMessage(12)])
    await h.run()
    expect(sentEvents(h.sent[0])).toEqual([10, 12].map((n) => ['audit.normalized', eventId(n)]))
    expect(h.tallies[0]?.duplicates).toBe(1)
  })

  it('drops a repeat that comes after the flush that sent the original', async () => {
    const repeated = kafkaMessage(11, JSON.stringify(ticketJson(10)))
    const h = harness([jsonMessage(10), repeated], { context: { flushMaxBytes: 1 } })
    await h.run()
    expect(h.sent.map(sentEvents)).toEqual([[['audit.normalized', eventId(10)]]])
    expect(h.log).toEqual([
      ...['send', 'commit 11', 'resolve 10', 'remember 1', 'flushed', 'heartbeat'],
      ...['commit 12', 'resolve 11', 'remember 0', 'flushed', 'heartbeat'],
    ])
  })
})

describe('processBatch: flushMaxBytes', () => {
  it('splits a batch into requests under the limit, each committed after its own send', async () => {
    const messages = [10, 11, 12, 13, 14].map(jsonMessage)
    // Every event has the same size (ids of one length): room for two per request, not three.
    const one = harness([jsonMessage(10)])
    await one.run()
    const eventBytes = requestBytes(one.sent[0] ?? [])
    const flushMaxBytes = Math.floor(eventBytes * 2.5)

    const h = harness(messages, { context: { flushMaxBytes } })
    expect(await h.run()).toBe('15')
    expect(h.log).toEqual([
      ...['send', 'commit 12', 'resolve 11', 'remember 2', 'flushed', 'heartbeat'],
      ...['send', 'commit 14', 'resolve 13', 'remember 2', 'flushed', 'heartbeat'],
      ...['send', 'commit 15', 'resolve 14', 'remember 1', 'flushed', 'heartbeat'],
    ])
    expect(h.sent.map(sentEvents)).toEqual([
      [10, 11].map((n) => ['audit.normalized', eventId(n)]),
      [12, 13].map((n) => ['audit.normalized', eventId(n)]),
      [['audit.normalized', eventId(14)]],
    ])
    for (const request of h.sent) expect(requestBytes(request)).toBeLessThanOrEqual(flushMaxBytes)
  })

  it('sends a message larger than the limit alone', async () => {
    const h = harness([jsonMessage(10), jsonMessage(11), jsonMessage(12)], { context: { flushMaxBytes: 10 } })
    expect(await h.run()).toBe('13')
    expect(h.sent.map((request) => sentEvents(request).length)).toEqual([1, 1, 1])
    expect(h.commit.mock.calls.map(([, , offset]) => offset)).toEqual(['11', '12', '13'])
  })
})

describe('processBatch: schema registry outage', () => {
  it('commits what came before the message, retries it until the registry answers, then sends it', async () => {
    let failures = 3
    const h = harness([jsonMessage(10), jsonMessage(11), avroMessage(12), jsonMessage(13)], {
      decodeAvro: (value) => (failures-- > 0 ? Promise.reject(outage()) : decodeAvro(value)),
    })
    expect(await h.run()).toBe('14')
    expect(h.log).toEqual([
      ...['send', 'commit 12', 'resolve 11', 'remember 2', 'flushed', 'heartbeat'],
      ...['retry 0', 'heartbeat', 'retry 1', 'heartbeat'],
      ...['send', 'commit 14', 'resolve 13', 'remember 2', 'flushed', 'heartbeat'],
    ])
    expect(h.decodeAvro).toHaveBeenCalledTimes(4)
    expect(h.sent.map(sentEvents)).toEqual([
      [10, 11].map((n) => ['audit.normalized', eventId(n)]),
      [12, 13].map((n) => ['audit.normalized', eventId(n)]),
    ])
    const [error, attempt, delayMs] = h.onRegistryRetry.mock.calls[0] ?? []
    expect(error).toBeInstanceOf(CodecError)
    expect(attempt).toBe(0)
    expect(delayMs).toBeGreaterThanOrEqual(0)
    expect(delayMs).toBeLessThanOrEqual(2)
    // Never dead-lettered for an outage.
    expect(h.sent.flat().map((t) => t.topic)).not.toContain('audit.dlq')
  })

  it('ends the batch cleanly when stopping lands while the first registry call is failing', async () => {
    const h = harness([jsonMessage(10), avroMessage(11), jsonMessage(12)], {
      decodeAvro: () => {
        h.stopping.abort()
        return Promise.reject(outage())
      },
    })
    await expect(h.run()).resolves.toBe('11')
    expect(h.log.filter((entry) => entry.startsWith('commit'))).toEqual(['commit 11'])
    expect(h.log).not.toContain('resolve 11')
  })

  it('stops holding when the partition goes to another instance during an outage', async () => {
    let stale = false
    const h = harness([jsonMessage(10), avroMessage(11)], {
      decodeAvro: () => Promise.reject(outage()),
      control: { isStale: () => stale },
    })
    h.onRegistryRetry.mockImplementation(() => {
      stale = true
    })
    await expect(h.run()).resolves.toBe('11')
    expect(h.log.filter((entry) => entry.startsWith('commit'))).toEqual(['commit 11'])
  })

  it('ends the batch when stopping during an outage, leaving the held message uncommitted', async () => {
    const h = harness([jsonMessage(10), avroMessage(11), jsonMessage(12)], {
      decodeAvro: () => Promise.reject(outage()),
    })
    h.onRegistryRetry.mockImplementation(() => {
      h.log.push('retry')
      h.stopping.abort()
    })
    expect(await h.run()).toBe('11')
    expect(h.log).toEqual([
      'send',
      'commit 11',
      'resolve 10',
      'remember 1',
      'flushed',
      'heartbeat',
      'retry',
      'heartbeat',
    ])
    expect(sentEvents(h.sent[0])).toEqual([['audit.normalized', eventId(10)]])
    expect(h.decodeAvro).toHaveBeenCalledTimes(2)
  })

  it('dead-letters an Avro message naming a schema the registry does not have, without retrying', async () => {
    const unknown = new CodecError('SCHEMA_UNKNOWN', 'the schema registry has no schema with id 1', false)
    const h = harness([avroMessage(10)], { decodeAvro: () => Promise.reject(unknown) })
    expect(await h.run()).toBe('11')
    expect(h.onRegistryRetry).not.toHaveBeenCalled()
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'SCHEMA_UNKNOWN',
      reason: 'SCHEMA_UNKNOWN',
    })
  })

  it('dead-letters a message whose reading throws (a bug, a stack overflow) and goes on with the next', async () => {
    let calls = 0
    const overflow = new RangeError('Maximum call stack size exceeded')
    const h = harness([avroMessage(10), avroMessage(11), jsonMessage(12)], {
      // The first message's reading overflows the stack; the one behind it reads as usual.
      decodeAvro: (value) => (calls++ === 0 ? Promise.reject(overflow) : decodeAvro(value)),
    })
    expect(await h.run()).toBe('13')
    expect(h.onRegistryRetry).not.toHaveBeenCalled()
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'RECORD_FAILED',
      reason: 'RANGE_ERROR',
      message: 'reading the message failed: RangeError: Maximum call stack size exceeded',
      source: { offset: '10' },
    })
    expect(sentEvents(h.sent[0]?.filter((request) => request.topic !== 'audit.dlq'))).toEqual([
      ['audit.normalized', eventId(11)],
      ['audit.normalized', eventId(12)],
    ])
  })
})

describe('processBatch: stopping and losing the partition', () => {
  it('stops where isRunning turns false, committing exactly the messages taken', async () => {
    let checks = 0
    const h = harness([10, 11, 12, 13].map(jsonMessage), { control: { isRunning: () => checks++ < 2 } })
    expect(await h.run()).toBe('12')
    expect(h.log).toEqual(['send', 'commit 12', 'resolve 11', 'remember 2', 'flushed', 'heartbeat'])
    expect(sentEvents(h.sent[0])).toEqual([10, 11].map((n) => ['audit.normalized', eventId(n)]))
  })

  it('stops where the batch goes stale, asking every 64 messages', async () => {
    let checks = 0
    const messages = Array.from({ length: 130 }, (_, i) => jsonMessage(100 + i))
    const h = harness(messages, { control: { isStale: () => checks++ >= 1 } })
    expect(await h.run()).toBe('164')
    expect(checks).toBe(2) // at messages 0 and 64
    expect(h.commit).toHaveBeenLastCalledWith(topic, partition, '164')
    expect(h.resolveOffset).toHaveBeenLastCalledWith('163')
  })

  it('does nothing when stopped before the first message', async () => {
    const h = harness([jsonMessage(10)], { control: { isRunning: () => false } })
    expect(await h.run()).toBeUndefined()
    expect(h.log).toEqual([])
  })
})

describe('processBatch: dead letters', () => {
  it('writes a message it cannot read to the dead-letter topic, with its source and error, and commits past it', async () => {
    const key = Buffer.from('witify/ticket/9548-B1')
    const value = Buffer.from('ticket 9548-B1: priority raised')
    const headers = { 'content-type': Buffer.from('text/plain') }
    const h = harness([jsonMessage(10), kafkaMessage(11, value, { key, headers }), jsonMessage(12)], {
      context: { deadLetterTopic: 'audit.dlq.normalizer' },
    })
    expect(await h.run()).toBe('13')
    expect(h.log).toEqual(['send', 'commit 13', 'resolve 12', 'remember 2', 'flushed', 'heartbeat'])

    const request = h.sent[0] ?? []
    expect(request.map((t) => [t.topic, t.messages.length])).toEqual([
      ['audit.normalized', 2],
      ['audit.dlq.normalizer', 1],
    ])
    expect(deadLetterIn(request, 'audit.dlq.normalizer')).toMatchObject({
      errorClass: 'INPUT_REJECTED',
      reason: 'NOT_JSON',
      source: { topic, partition, offset: '11', timestamp: String(receivedAtMs) },
      failedAt: now,
      service: 'normalizer',
      key,
      value,
      originalHeaders: headers,
    })
    expect(Object.fromEntries(h.tallies[0]?.deadLettered ?? [])).toEqual({ INPUT_REJECTED: 1 })
  })

  it('commits past a batch whose only message is dead-lettered', async () => {
    const h = harness([kafkaMessage(30, Buffer.from([0x01, 0x02]))])
    expect(await h.run()).toBe('31')
    expect(h.sent[0]?.map((t) => t.topic)).toEqual(['audit.dlq'])
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'WRONG_MAGIC_BYTE',
      source: { offset: '30' },
    })
    expect(h.resolveOffset).toHaveBeenCalledExactlyOnceWith('30')
  })
})
