import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IHeaders, Message, TopicMessages } from 'kafkajs'
import { openLocalKeyStore, type KeyStore } from '@audit-pipeline/field-encryption'
import { CodecError } from '@audit-pipeline/codec'
import {
  deadLetterHeaderNames,
  deadLetterOpener,
  readDeadLetter,
  sealedErrorMessageText,
  type DeadLetter,
  type SealedDeadLetter,
} from '@audit-pipeline/dead-letter'
import {
  defaultEventPolicy,
  parseEventJson,
  partitionKeyFor,
  type AuditEvent,
} from '@audit-pipeline/event-model'
import {
  committableOf,
  isOutage,
  partitionId,
  type KafkaRecord,
  type PartitionOffset,
  type RuntimeContext,
} from '@audit-pipeline/kafka'
import { contentDigest } from '@audit-pipeline/integrity'
import { ticketExampleLines } from '@audit-pipeline/schemas'
import { createLogger, retryWithBackoff } from '@audit-pipeline/service-runtime'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { auditJsonAdapter } from '../adapters/auditJsonAdapter.js'
import { cloudEventsAdapter } from '../adapters/cloudEventsAdapter.js'
import { createDebeziumAdapter } from '../adapters/debeziumAdapter.js'
import type { RecordReader } from '../pipeline/readRecord.js'
import { KeyStoreUnavailableError } from '../redaction/keyStoreOutage.js'
import { defaultRedactionPolicy, parseRedactionPolicy } from '../redaction/redactionPolicy.js'
import { parseRoutes } from '../routing/parseRoutes.js'
import { eventKeyOf, type DedupWindow } from './dedupWindow.js'
import { normalizerSteps, type Flush, type NormalizerStepsOptions } from './normalizerSteps.js'
import { messageBytes } from './pendingFlush.js'

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

/** Event number `n`'s key in the dedup window. */
const keyOf = (n: number) => eventKeyOf(decodedEvent(n).tenant, eventId(n))

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

/** A message as the runtime hands it to the first step. */
function record(
  offset: number,
  value: Buffer | string | null,
  extra: { key?: Buffer; headers?: IHeaders; partition?: number } = {},
): KafkaRecord {
  return {
    topic,
    partition: extra.partition ?? partition,
    offset: String(offset),
    timestamp: String(receivedAtMs),
    key: extra.key ?? null,
    value: typeof value === 'string' ? Buffer.from(value) : value,
    headers: extra.headers ?? {},
  }
}

/** A JSON-form message at `offset` carrying event number `offset`. */
const jsonRecord = (offset: number, onPartition = partition) =>
  record(offset, JSON.stringify(ticketJson(offset)), { partition: onPartition })
/** An Avro message at `offset` carrying event number `offset`. */
const avroRecord = (offset: number) => record(offset, avroValue(offset))

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
/** Content digests of the stand-in encoding, computed in this thread like the real ones without a worker. */
const digests = {
  of: (value: Uint8Array) => contentDigest(JSON.parse(Buffer.from(value).toString()) as AuditEvent),
  ofAll: (values: readonly Uint8Array[]) => Promise.resolve(values.map((value) => digests.of(value))),
}

type Options = {
  decodeAvro?: (value: Buffer) => Promise<AuditEvent>
  /** The reader's redaction policy and key store. */
  reader?: Partial<Pick<RecordReader, 'redaction' | 'fieldKeys' | 'adapters'>>
  send?: NormalizerStepsOptions['send']
  commit?: RuntimeContext['commit']
  /** Called on each retry of the registry, after it is logged. */
  onRetry?: () => void
  steps?: Partial<
    Pick<
      NormalizerStepsOptions,
      'routes' | 'dedup' | 'deadLetterTopic' | 'flushMaxBytes' | 'maxFlushesInFlight' | 'digests'
    >
  >
}

/**
 * normalizerSteps with a fake runtime context and every Kafka call faked, driven as the runtime
 * drives it. `log` records the calls that matter for delivery, in the order they happen: send,
 * flushed, remember <count>, commit <offset>, retry <attempt>. Each fake is returned as a mock to
 * inspect.
 */
function harness(options: Options = {}) {
  const log: string[] = []
  const sent: TopicMessages[][] = []
  const remembered = new Map<string, string>()
  const flushes: Flush[] = []
  const deadLettersCounted: string[] = []
  const retried: unknown[] = []
  const aborting = new AbortController()
  const fakes = {
    decodeAvro: vi.fn(options.decodeAvro ?? decodeAvro),
    send: vi.fn<NormalizerStepsOptions['send']>(
      options.send ??
        ((topicMessages) => {
          log.push('send')
          sent.push(topicMessages)
          return Promise.resolve()
        }),
    ),
    commit: vi.fn<RuntimeContext['commit']>(
      options.commit ??
        ((offsets) => {
          log.push(`commit ${offsets.map((position) => position.offset).join(' ')}`)
          return Promise.resolve()
        }),
    ),
    onFlushed: vi.fn<NormalizerStepsOptions['onFlushed']>((flush) => {
      log.push('flushed')
      flushes.push(flush)
    }),
  }
  const dedup: DedupWindow = options.steps?.dedup ?? {
    digestOf: (key) => remembered.get(key),
    remember(sent) {
      const list = [...sent]
      log.push(`remember ${list.length}`)
      for (const { key, digest } of list) remembered.set(key, digest)
    },
    remembers: true,
    get size() {
      return remembered.size
    },
  }
  // The runtime's context as far as the steps see it; whileUnavailable waits out outages as the
  // runtime's does, with tiny delays.
  const waitedFor: string[] = []
  const context: RuntimeContext = {
    commit: fakes.commit,
    whileUnavailable: (what, work) => {
      waitedFor.push(what)
      return retryWithBackoff(work, {
        isRetriable: (error) => isOutage(error) && !aborting.signal.aborted,
        policy: { initialDelayMs: 1, maxDelayMs: 2, multiplier: 1 },
        signal: aborting.signal,
        onRetry: (error, attempt) => {
          log.push(`retry ${attempt}`)
          retried.push(error)
          options.onRetry?.()
        },
      })
    },
    // The steps commit through `commit`, never by other means.
    committedElsewhere: () => undefined,
    countDeadLetters: (errorClasses) => void deadLettersCounted.push(...errorClasses),
    signal: aborting.signal,
    log: createLogger({ service: 'normalizer', level: 'silent' }),
  }
  const stepOptions: NormalizerStepsOptions = {
    reader: {
      decodeAvro: fakes.decodeAvro,
      adapters: [auditJsonAdapter, cloudEventsAdapter],
      policy: defaultEventPolicy,
      redaction: defaultRedactionPolicy,
      maxEventBytes: 1_000_000,
      ...options.reader,
    },
    routes: () => routes,
    encode,
    digests,
    dedup,
    deadLetterTopic: 'audit.dlq',
    maxEventBytes: 1_000_000,
    flushMaxBytes: 786_432,
    maxFlushesInFlight: 1,
    send: fakes.send,
    onFlushed: fakes.onFlushed,
    log: createLogger({ service: 'normalizer', level: 'silent' }),
    now: () => now,
    ...options.steps,
  }
  const steps = normalizerSteps(stepOptions, context)
  const submit = (taken: KafkaRecord) => steps.submit({ payload: taken, committable: committableOf(taken) })
  /** One fetched batch, as the runtime hands it over: each record, then a poll. */
  const fetched = async (records: KafkaRecord[]) => {
    for (const taken of records) await submit(taken)
    await steps.poll()
  }
  return {
    ...fakes,
    log,
    sent,
    remembered,
    flushes,
    deadLettersCounted,
    retried,
    waitedFor,
    aborting,
    dedup,
    steps,
    submit,
    fetched,
    /** One fetched batch, then a clean stop: join finishes and commits what was read. */
    run: async (records: KafkaRecord[]) => {
      await fetched(records)
      await steps.join()
    },
  }
}

/**
 * A local key store whose data and index keys come for `working` calls, fail for the next
 * `failing` ones (as a full disk or a KMS that does not answer would), then come again. Looking
 * keys up by id and erasing always work: the tests open what was sealed with them.
 */
function flakyKeyStore(working: number, failing: number): KeyStore {
  const directory = mkdtempSync(join(tmpdir(), 'normalizer-keys-'))
  onTestFinished(() => rmSync(directory, { recursive: true, force: true }))
  const keys = openLocalKeyStore({ directory, keyEncryptionKey: randomBytes(32) })
  const flaky =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      working-- > 0 || failing-- <= 0
        ? call(...args)
        : Promise.reject(new Error('ENOSPC: no space left on device'))
  return {
    dataKeyFor: flaky((tenant: string, subject: string) => keys.dataKeyFor(tenant, subject)),
    keyById: (keyId) => keys.keyById(keyId),
    indexKeyFor: flaky((tenant: string) => keys.indexKeyFor(tenant)),
    erase: (tenant, subject) => keys.erase(tenant, subject),
  }
}

/** A send whose calls the test acknowledges or fails one by one. */
function controlledSends() {
  const calls: { events: [string, string][]; ack: () => void; fail: (error: unknown) => void }[] = []
  const waiting: { count: number; resolve: () => void }[] = []
  const send: NormalizerStepsOptions['send'] = (topicMessages) =>
    new Promise<void>((ack, fail) => {
      calls.push({ events: sentEvents(topicMessages), ack, fail })
      for (const waiter of waiting.filter((w) => calls.length >= w.count)) waiter.resolve()
    })
  /** Resolves once `count` sends were made. */
  const called = (count: number) =>
    calls.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.push({ count, resolve }))
  const call = (index: number) => {
    const made = calls[index]
    if (!made) throw new Error(`send ${index} was not made`)
    return made
  }
  return { send, calls, called, call }
}

/** A commit that records what it committed; `made(count)` resolves once `count` commits were made. */
function recordedCommits() {
  const offsets: PartitionOffset[][] = []
  const waiting: { count: number; resolve: () => void }[] = []
  const commit: RuntimeContext['commit'] = (positions) => {
    offsets.push([...positions])
    for (const waiter of waiting.filter((w) => offsets.length >= w.count)) waiter.resolve()
    return Promise.resolve()
  }
  const made = (count: number) =>
    offsets.length >= count
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.push({ count, resolve }))
  return { commit, offsets, made }
}

/** [topic, event id] of every event message in one send request. */
function sentEvents(request: TopicMessages[] | undefined): [string, string][] {
  return (request ?? [])
    .filter((t) => t.topic !== 'audit.dlq')
    .flatMap(({ topic: sentTo, messages }) =>
      messages.map((message): [string, string] => [
        sentTo,
        (JSON.parse(String(message.value)) as AuditEvent).event_id,
      ]),
    )
}

/** The size a flush counts for one output message (pendingFlush.ts). */
const requestBytes = (request: TopicMessages[]) =>
  request.flatMap((t) => t.messages).reduce((sum, m) => sum + messageBytes(m), 0)

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

describe('normalizerSteps: send, then commit', () => {
  it('sends the flush, then remembers its ids and commits the offset after its last message', async () => {
    const h = harness()
    await h.run([jsonRecord(10), jsonRecord(11), jsonRecord(12)])
    expect(h.log).toEqual(['send', 'flushed', 'remember 3', 'commit 13'])
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '13' }])
    expect(sentEvents(h.sent[0])).toEqual([10, 11, 12].map((n) => ['audit.normalized', eventId(n)]))
    const [message] = h.sent[0]?.[0]?.messages ?? []
    expect(message?.key?.toString()).toBe(partitionKeyFor(decodedEvent(10)))
    expect(message?.headers?.['audit-route']?.toString()).toBe('default')
    expect([...h.remembered.keys()]).toEqual([10, 11, 12].map(keyOf))
  })

  it('commits nothing and remembers nothing until the send is acknowledged', async () => {
    const sends = controlledSends()
    const h = harness({ send: sends.send, steps: { maxFlushesInFlight: 2 } })
    await h.fetched([jsonRecord(10), jsonRecord(11)])
    await sends.called(1)
    // The runtime polls on a timer meanwhile: nothing is due.
    await h.steps.poll()
    expect(h.commit).not.toHaveBeenCalled()
    expect(h.remembered.size).toBe(0)
    expect(h.onFlushed).not.toHaveBeenCalled()
    sends.call(0).ack()
    await h.steps.join()
    expect(h.log).toEqual(['flushed', 'remember 2', 'commit 12'])
  })

  it('commits a flush as soon as Kafka acknowledged it, without waiting for the next one', async () => {
    const sends = controlledSends()
    const commits = recordedCommits()
    const h = harness({ send: sends.send, commit: commits.commit, steps: { maxFlushesInFlight: 2 } })
    await h.fetched([jsonRecord(10), jsonRecord(11)])
    await sends.called(1)
    sends.call(0).ack()
    // No further submit, poll or join: the commit follows the acknowledgement by itself.
    await commits.made(1)
    expect(commits.offsets).toEqual([[{ topic, partition, offset: '12' }]])
  })

  it("sends a partition's next flush while the digests of the one before are still computed, and commits that one only once they are remembered", async () => {
    const sends = controlledSends()
    const commits = recordedCommits()
    // Digests the test hands out flush by flush, as a slow worker thread would.
    const pending: { values: readonly Uint8Array[]; done: () => void }[] = []
    const digestsHeld = {
      of: digests.of,
      ofAll: (values: readonly Uint8Array[]) =>
        new Promise<string[]>((resolve) => {
          pending.push({ values, done: () => resolve(values.map((value) => digests.of(value))) })
        }),
    }
    const h = harness({
      send: sends.send,
      commit: commits.commit,
      steps: { maxFlushesInFlight: 3, digests: digestsHeld },
    })
    await h.fetched([jsonRecord(10), jsonRecord(11)])
    await sends.called(1)
    sends.call(0).ack()
    await h.fetched([jsonRecord(12)])
    // Sent once the first is acknowledged, its digests or not.
    await sends.called(2)
    expect(h.remembered.size).toBe(0)
    expect(commits.offsets).toEqual([])
    // A repeat of an event whose digest is not in yet is still a duplicate: judged from its encoded form.
    await h.fetched([{ ...jsonRecord(11), offset: '13' }])
    sends.call(1).ack()
    pending[0]!.done()
    await commits.made(1)
    expect(commits.offsets[0]).toEqual([{ topic, partition, offset: '12' }])
    expect([...h.remembered.keys()]).toEqual([10, 11].map(keyOf))
    for (const flush of pending.slice(1)) flush.done()
    await h.steps.join()
    // The repeat sent nothing (two requests in all) and was counted a duplicate.
    expect(sends.calls).toHaveLength(2)
    expect(h.flushes.reduce((sum, flush) => sum + flush.pending.tally.duplicates, 0)).toBe(1)
    expect(commits.offsets.at(-1)).toEqual([{ topic, partition, offset: '14' }])
  })

  it('commits nothing when the send fails, lets the error out, and sends everything again on the next read', async () => {
    const failure = new Error('KafkaJSNumberOfRetriesExceeded')
    const records = [jsonRecord(10), jsonRecord(11)]
    const failing = harness({ send: () => Promise.reject(failure) })
    await expect(failing.run(records)).rejects.toBe(failure)
    // The runtime closes the steps, then reads again from the last commit with new ones.
    await failing.steps.close()
    expect(failing.commit).not.toHaveBeenCalled()
    expect(failing.onFlushed).not.toHaveBeenCalled()
    expect(failing.deadLettersCounted).toEqual([])
    expect(failing.remembered.size).toBe(0)

    // The same dedup window (nothing in it) reads the records again: nothing is dropped as a duplicate.
    const again = harness({ steps: { dedup: failing.dedup } })
    await again.run(records)
    expect(sentEvents(again.sent[0])).toEqual([10, 11].map((n) => ['audit.normalized', eventId(n)]))
    expect(again.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '12' }])
  })

  it('lets a failed commit out; its acknowledged events are not sent again after the restart', async () => {
    const failure = new Error('The coordinator is not available')
    const records = [jsonRecord(10), jsonRecord(11)]
    const h = harness({ commit: () => Promise.reject(failure) })
    await expect(h.run(records)).rejects.toBe(failure)
    await h.steps.close()
    expect(h.log).toEqual(['send', 'flushed', 'remember 2'])

    // Read again after the restart: Kafka has the events already, so they are dropped as duplicates.
    const again = harness({ steps: { dedup: h.dedup } })
    await again.run(records)
    expect(again.send).not.toHaveBeenCalled()
    expect(again.flushes[0]?.pending.tally.duplicates).toBe(2)
    expect(again.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '12' }])
  })

  it('commits a flush of tombstones without sending anything', async () => {
    const h = harness()
    await h.run([record(20, null), record(21, null)])
    expect(h.send).not.toHaveBeenCalled()
    expect(h.log).toEqual(['flushed', 'remember 0', 'commit 22'])
    expect(Object.fromEntries(h.flushes[0]?.pending.tally.skipped ?? [])).toEqual({ TOMBSTONE: 2 })
  })

  it('sends an event to every topic of its route, and reports the flush', async () => {
    const security = { ...ticketJson(10), category: 'security' }
    const h = harness()
    await h.run([record(10, JSON.stringify(security)), jsonRecord(11)])
    expect(sentEvents(h.sent[0])).toEqual([
      ['audit.normalized', eventId(10)],
      ['audit.normalized', eventId(11)],
      ['audit.forward', eventId(10)],
    ])
    expect(h.onFlushed).toHaveBeenCalledExactlyOnceWith(
      expect.objectContaining({ consumedByTopic: new Map([[topic, 2]]) }),
      expect.any(Number),
    )
    expect(Object.fromEntries(h.flushes[0]?.pending.tally.produced ?? [])).toEqual({
      'security\taudit.normalized': 1,
      'security\taudit.forward': 1,
      'default\taudit.normalized': 1,
    })
  })

  it('reads the routes per message, so a reload applies from the next message', async () => {
    const reloaded = parseRoutes('default:\n  to: [audit.reloaded]\n', { file: 'routes.yaml' })
    const tables = [routes, reloaded]
    const h = harness({ steps: { routes: () => tables.shift() ?? reloaded } })
    await h.run([jsonRecord(10), jsonRecord(11)])
    expect(sentEvents(h.sent[0])).toEqual([
      ['audit.normalized', eventId(10)],
      ['audit.reloaded', eventId(11)],
    ])
  })
})

describe('normalizerSteps: duplicates', () => {
  it('drops an event whose id went out recently, counting it', async () => {
    const h = harness()
    h.remembered.set(keyOf(10), contentDigest(decodedEvent(10)))
    await h.run([jsonRecord(10), jsonRecord(11)])
    expect(sentEvents(h.sent[0])).toEqual([['audit.normalized', eventId(11)]])
    expect(h.flushes[0]?.pending.tally.duplicates).toBe(1)
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '12' }])
  })

  it('dead-letters an event whose id went out with other content, naming both digests, and goes on', async () => {
    const h = harness()
    h.remembered.set(keyOf(10), 'f'.repeat(64))
    await h.run([jsonRecord(10), jsonRecord(11)])
    expect(sentEvents(h.sent[0])).toEqual([['audit.normalized', eventId(11)]])
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'EVENT_ID_CONFLICT',
      conflict: {
        tenant: decodedEvent(10).tenant,
        eventId: eventId(10),
        storedDigest: 'f'.repeat(64),
        refusedDigest: contentDigest(decodedEvent(10)),
      },
    })
    // The original is what the window still holds.
    expect(h.remembered.get(keyOf(10))).toBe('f'.repeat(64))
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '12' }])
  })

  it('sends an event repeated in two messages of one flush once', async () => {
    const repeated = record(11, JSON.stringify(ticketJson(10)))
    const h = harness()
    await h.run([jsonRecord(10), repeated, jsonRecord(12)])
    expect(sentEvents(h.sent[0])).toEqual([10, 12].map((n) => ['audit.normalized', eventId(n)]))
    expect(h.flushes[0]?.pending.tally.duplicates).toBe(1)
  })

  it('drops a repeat that comes after the flush that sent the original', async () => {
    const repeated = record(11, JSON.stringify(ticketJson(10)))
    const h = harness({ steps: { flushMaxBytes: 1 } })
    await h.run([jsonRecord(10), repeated])
    expect(h.sent.map(sentEvents)).toEqual([[['audit.normalized', eventId(10)]]])
    expect(h.log).toEqual([
      ...['send', 'flushed', 'remember 1', 'commit 11'],
      ...['flushed', 'remember 0', 'commit 12'],
    ])
  })

  it('drops a repeat read while the flush with the original is still being sent, and sends the original again if that send fails', async () => {
    const failure = new Error('KafkaJSNumberOfRetriesExceeded')
    // Event 10 on partition 0, then again (a producer's retry) on partition 1 beside event 21.
    const original = jsonRecord(10, 0)
    const repeated = record(20, JSON.stringify(ticketJson(10)), { partition: 1 })
    const sends = controlledSends()
    const commits = recordedCommits()
    const h = harness({ send: sends.send, commit: commits.commit, steps: { maxFlushesInFlight: 2 } })
    await h.fetched([original])
    await h.fetched([repeated, jsonRecord(21, 1)])
    await sends.called(2)
    expect(sends.calls.map((call) => call.events)).toEqual([
      [['audit.normalized', eventId(10)]],
      [['audit.normalized', eventId(21)]],
    ])
    sends.call(1).ack()
    sends.call(0).fail(failure)
    await expect(h.steps.join()).rejects.toBe(failure)
    await h.steps.close()
    // Partition 1 went on (it held only a duplicate and event 21); partition 0 was not committed.
    expect(commits.offsets).toEqual([[{ topic, partition: 1, offset: '22' }]])
    expect(h.flushes.map((flush) => flush.pending.tally.duplicates)).toEqual([1])

    // After the restart partition 0 is read again from its last commit: the original is sent.
    const again = harness({ steps: { dedup: h.dedup } })
    await again.run([original])
    expect(again.sent.map(sentEvents)).toEqual([[['audit.normalized', eventId(10)]]])
    expect(again.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition: 0, offset: '11' }])
  })
})

describe('normalizerSteps: flushMaxBytes', () => {
  it('splits a fetched batch into requests under the limit, each committed after its own send', async () => {
    const records = [10, 11, 12, 13, 14].map((offset) => jsonRecord(offset))
    // Every event has the same size (ids of one length): room for two per request, not three.
    const one = harness()
    await one.run([jsonRecord(10)])
    const eventBytes = requestBytes(one.sent[0] ?? [])
    const flushMaxBytes = Math.floor(eventBytes * 2.5)

    const h = harness({ steps: { flushMaxBytes } })
    await h.run(records)
    expect(h.log).toEqual([
      ...['send', 'flushed', 'remember 2', 'commit 12'],
      ...['send', 'flushed', 'remember 2', 'commit 14'],
      ...['send', 'flushed', 'remember 1', 'commit 15'],
    ])
    expect(h.sent.map(sentEvents)).toEqual([
      [10, 11].map((n) => ['audit.normalized', eventId(n)]),
      [12, 13].map((n) => ['audit.normalized', eventId(n)]),
      [['audit.normalized', eventId(14)]],
    ])
    for (const request of h.sent) expect(requestBytes(request)).toBeLessThanOrEqual(flushMaxBytes)
  })

  it('sends a message larger than the limit alone', async () => {
    const h = harness({ steps: { flushMaxBytes: 10 } })
    await h.run([jsonRecord(10), jsonRecord(11), jsonRecord(12)])
    expect(h.sent.map((request) => sentEvents(request).length)).toEqual([1, 1, 1])
    expect(h.commit.mock.calls.map(([offsets]) => offsets.map((p) => p.offset))).toEqual([
      ['11'],
      ['12'],
      ['13'],
    ])
  })

  it('weighs a dead letter with the headers naming its failure, so a flush of them stays under the limit', async () => {
    // A long error message: the dead letter carries it (up to 4 KiB) beside the original bytes.
    const unknown = new CodecError('SCHEMA_UNKNOWN', `no schema with id 1: ${'x'.repeat(3_000)}`, false)
    const records = Array.from({ length: 10 }, (_, i) => avroRecord(10 + i))
    const one = harness({ decodeAvro: () => Promise.reject(unknown) })
    await one.run([avroRecord(10)])
    const letterBytes = requestBytes(one.sent[0] ?? [])
    expect(letterBytes).toBeGreaterThan(3_000)
    const flushMaxBytes = Math.floor(letterBytes * 2.5)

    const h = harness({ decodeAvro: () => Promise.reject(unknown), steps: { flushMaxBytes } })
    await h.run(records)
    expect(h.sent.map((request) => request.flatMap((t) => t.messages).length)).toEqual([2, 2, 2, 2, 2])
    for (const request of h.sent) expect(requestBytes(request)).toBeLessThanOrEqual(flushMaxBytes)
    expect(h.deadLettersCounted).toEqual(Array<string>(10).fill('SCHEMA_UNKNOWN'))
  })
})

describe('normalizerSteps: flushes in flight', () => {
  it('sends one partition’s flushes one after another, other partitions’ beside them, and commits each partition in order, none held back by another', async () => {
    const sends = controlledSends()
    const commits = recordedCommits()
    const h = harness({ send: sends.send, commit: commits.commit, steps: { maxFlushesInFlight: 3 } })
    // Three fetched batches: partition 0, partition 1, partition 0 again.
    await h.fetched([jsonRecord(10, 0)])
    await h.fetched([jsonRecord(20, 1)])
    await h.fetched([jsonRecord(11, 0)])
    await sends.called(2)
    // Partition 0's second flush waits for its first: sent side by side, a retry of the first
    // could land after it.
    expect(sends.calls.map((call) => call.events)).toEqual([
      [['audit.normalized', eventId(10)]],
      [['audit.normalized', eventId(20)]],
    ])
    // Partition 1's flush is committed once acknowledged, though one read before it is not.
    sends.call(1).ack()
    await commits.made(1)
    expect(commits.offsets).toEqual([[{ topic, partition: 1, offset: '21' }]])
    sends.call(0).ack()
    await sends.called(3)
    expect(sends.call(2).events).toEqual([['audit.normalized', eventId(11)]])
    sends.call(2).ack()
    await h.steps.join()
    expect(commits.offsets).toEqual([
      [{ topic, partition: 1, offset: '21' }],
      [{ topic, partition: 0, offset: '11' }],
      [{ topic, partition: 0, offset: '12' }],
    ])
  })

  it('never sends nor commits a flush after a failed one of its partition; other partitions go on', async () => {
    const failure = new Error('KafkaJSNumberOfRetriesExceeded')
    const sends = controlledSends()
    const commits = recordedCommits()
    const h = harness({ send: sends.send, commit: commits.commit, steps: { maxFlushesInFlight: 3 } })
    await h.fetched([jsonRecord(10, 0)])
    await h.fetched([jsonRecord(20, 1)])
    await h.fetched([jsonRecord(11, 0)])
    await sends.called(2)
    sends.call(0).fail(failure)
    sends.call(1).ack()
    await expect(h.steps.join()).rejects.toBe(failure)
    // close() waits for what is in flight to settle: partition 0's second flush was never sent.
    await h.steps.close()
    expect(sends.calls).toHaveLength(2)
    expect(commits.offsets).toEqual([[{ topic, partition: 1, offset: '21' }]])
    expect(h.flushes.map((flush) => [...flush.committable.keys()])).toEqual([[partitionId(topic, 1)]])
  })

  it('sends nothing more of a partition whose flush failed, even before the failure is reported', async () => {
    const failure = new Error('KafkaJSNumberOfRetriesExceeded')
    const sends = controlledSends()
    const commits = recordedCommits()
    const h = harness({ send: sends.send, commit: commits.commit, steps: { maxFlushesInFlight: 3 } })
    // Partition 1's flush stays in flight, ahead of partition 0's, which fails: runInFlight
    // reports a failure in the order read, so the next submit does not see it yet.
    await h.fetched([jsonRecord(20, 1)])
    await h.fetched([jsonRecord(10, 0)])
    await sends.called(2)
    sends.call(1).fail(failure)
    await h.fetched([jsonRecord(11, 0)])
    expect(sends.calls).toHaveLength(2)
    sends.call(0).ack()
    await expect(h.steps.join()).rejects.toBe(failure)
    await h.steps.close()
    expect(sends.calls).toHaveLength(2)
    // Offset 11 was never sent: committing partition 0 past it would lose it.
    expect(commits.offsets).toEqual([[{ topic, partition: 1, offset: '21' }]])
  })
})

describe('normalizerSteps: schema registry outage', () => {
  it('sends and commits what came before the message, holds it until the registry answers, then sends it', async () => {
    let failures = 3
    const h = harness({
      decodeAvro: (value) => (failures-- > 0 ? Promise.reject(outage()) : decodeAvro(value)),
    })
    await h.run([jsonRecord(10), jsonRecord(11), avroRecord(12), jsonRecord(13)])
    expect(h.log).toEqual([
      ...['send', 'flushed', 'remember 2', 'commit 12'],
      ...['retry 0', 'retry 1'],
      ...['send', 'flushed', 'remember 2', 'commit 14'],
    ])
    expect(h.decodeAvro).toHaveBeenCalledTimes(4)
    expect(h.sent.map(sentEvents)).toEqual([
      [10, 11].map((n) => ['audit.normalized', eventId(n)]),
      [12, 13].map((n) => ['audit.normalized', eventId(n)]),
    ])
    expect(h.retried[0]).toBeInstanceOf(CodecError)
    // Never dead-lettered for an outage.
    expect(h.sent.flat().map((t) => t.topic)).not.toContain('audit.dlq')
    expect(h.deadLettersCounted).toEqual([])
  })

  it('waits for the registry by name', async () => {
    let failures = 1
    const h = harness({
      decodeAvro: (value) => (failures-- > 0 ? Promise.reject(outage()) : decodeAvro(value)),
    })
    await h.run([avroRecord(10)])
    expect(h.waitedFor).toEqual(['schema registry'])
  })

  it('neither dead-letters nor commits the held message when the wait is cut short (stop, restart)', async () => {
    const cutShort = harness({
      decodeAvro: () => Promise.reject(outage()),
      onRetry: () => cutShort.aborting.abort(),
    })
    await cutShort.submit(jsonRecord(10))
    await expect(cutShort.submit(avroRecord(11))).rejects.toBeInstanceOf(CodecError)
    // The runtime stops reading, then finishes what it took.
    await cutShort.steps.join()
    expect(cutShort.log).toEqual(['send', 'flushed', 'remember 1', 'commit 11', 'retry 0'])
    expect(sentEvents(cutShort.sent[0])).toEqual([['audit.normalized', eventId(10)]])
    expect(cutShort.sent).toHaveLength(1)
    expect(cutShort.decodeAvro).toHaveBeenCalledTimes(2)
    expect(cutShort.deadLettersCounted).toEqual([])
  })

  it('dead-letters an Avro message naming a schema the registry does not have, without retrying', async () => {
    const unknown = new CodecError('SCHEMA_UNKNOWN', 'the schema registry has no schema with id 1', false)
    const h = harness({ decodeAvro: () => Promise.reject(unknown) })
    await h.run([avroRecord(10)])
    expect(h.retried).toEqual([])
    expect(h.decodeAvro).toHaveBeenCalledTimes(1)
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'SCHEMA_UNKNOWN',
      reason: 'SCHEMA_UNKNOWN',
    })
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '11' }])
  })

  it('dead-letters a message whose reading throws (a bug, a stack overflow) and goes on with the next', async () => {
    let calls = 0
    const overflow = new RangeError('Maximum call stack size exceeded')
    const h = harness({
      // The first message's reading overflows the stack; the one behind it reads as usual.
      decodeAvro: (value) => (calls++ === 0 ? Promise.reject(overflow) : decodeAvro(value)),
    })
    await h.run([avroRecord(10), avroRecord(11), jsonRecord(12)])
    expect(h.retried).toEqual([])
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'RECORD_FAILED',
      reason: 'RANGE_ERROR',
      message: 'processing the record failed: RangeError: Maximum call stack size exceeded',
      source: { offset: '10' },
    })
    expect(sentEvents(h.sent[0])).toEqual([
      ['audit.normalized', eventId(11)],
      ['audit.normalized', eventId(12)],
    ])
    expect(h.deadLettersCounted).toEqual(['RECORD_FAILED'])
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '13' }])
  })
})

describe('normalizerSteps: field key store outage', () => {
  const redaction = parseRedactionPolicy(
    'tenants: { witify: { method: encrypt, sensitive_fields: [priority] } }',
    'redaction.yaml',
    { fieldKeys: true },
  )
  it('sends and commits what came before, holds the message until the store works, then sends it sealed', async () => {
    // sealEvent asks for the data key and the index key at once: two calls per event.
    const h = harness({ reader: { redaction, fieldKeys: flakyKeyStore(2, 4) } })
    await h.run([avroRecord(10), jsonRecord(11), jsonRecord(12)])
    expect(h.log).toEqual([
      ...['send', 'flushed', 'remember 1', 'commit 11'],
      ...['retry 0'],
      ...['send', 'flushed', 'remember 2', 'commit 13'],
    ])
    expect(h.waitedFor).toEqual(['field key store'])
    expect(h.retried[0]).toBeInstanceOf(KeyStoreUnavailableError)
    expect(h.sent.map(sentEvents)).toEqual([
      [['audit.normalized', eventId(10)]],
      [11, 12].map((n) => ['audit.normalized', eventId(n)]),
    ])
    // Never dead-lettered, never sent unsealed.
    expect(h.sent.flat().map((t) => t.topic)).not.toContain('audit.dlq')
    expect(h.deadLettersCounted).toEqual([])
    const sealed = h.sent[1]?.[0]?.messages.map((m) => JSON.parse(String(m.value)) as AuditEvent) ?? []
    for (const event of sealed) {
      expect(JSON.parse(event.after ?? 'null')).toMatchObject({
        priority: expect.stringMatching(/^enc:v1:/) as string,
      })
    }
  })
})

describe('normalizerSteps: dead letters', () => {
  it('writes a message it cannot read to the dead-letter topic, with its source and error, and commits past it', async () => {
    const key = Buffer.from('witify/ticket/9548-B1')
    const value = Buffer.from('ticket 9548-B1: priority raised')
    const headers = { 'content-type': Buffer.from('text/plain') }
    const h = harness({ steps: { deadLetterTopic: 'audit.dlq.normalizer' } })
    await h.run([jsonRecord(10), record(11, value, { key, headers }), jsonRecord(12)])
    expect(h.log).toEqual(['send', 'flushed', 'remember 2', 'commit 13'])

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
    expect(Object.fromEntries(h.flushes[0]?.pending.tally.deadLettered ?? [])).toEqual({ INPUT_REJECTED: 1 })
    expect(h.deadLettersCounted).toEqual(['INPUT_REJECTED'])
  })

  it('commits past a flush whose only message is dead-lettered', async () => {
    const h = harness()
    await h.run([record(30, Buffer.from([0x01, 0x02]))])
    expect(h.sent[0]?.map((t) => t.topic)).toEqual(['audit.dlq'])
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'EVENT_UNDECODABLE',
      reason: 'WRONG_MAGIC_BYTE',
      source: { offset: '30' },
    })
    expect(h.commit).toHaveBeenCalledExactlyOnceWith([{ topic, partition, offset: '31' }])
  })
})

describe('normalizerSteps: sealed dead letters', () => {
  const redaction = parseRedactionPolicy(
    'tenants: { witify: { method: encrypt }, acme: { method: drop } }',
    'redaction.yaml',
    { fieldKeys: true },
  )
  /** A local key store whose first `failing` calls fail. */
  const keyStore = (failing = 0): KeyStore => flakyKeyStore(0, failing)
  /** Event number `n` of witify, refused for a field named by the actor's address, which the error quotes. */
  const invalid = (n: number, changes: Record<string, unknown> = {}) =>
    record(n, JSON.stringify({ ...ticketJson(n), 'jack.peltrow@example.com': true, ...changes }), {
      key: Buffer.from('witify/ticket/9548-B1'),
    })
  /** Every byte of a send request's dead letters, values and headers, as text. */
  const deadLetterText = (request: TopicMessages[] | undefined) =>
    JSON.stringify(
      (request ?? [])
        .filter((t) => t.topic === 'audit.dlq')
        .flatMap((t) => t.messages)
        .map((m) => [
          String(m.value),
          Object.entries(m.headers ?? {}).map(([name, value]) => `${name}=${String(value)}`),
        ]),
    )

  it('seals the dead letter of an encrypting tenant’s message under its subject’s key: nothing of it in the clear', async () => {
    const keys = keyStore()
    const h = harness({ reader: { redaction, fieldKeys: keys } })
    const refused = invalid(11)
    await h.run([jsonRecord(10), refused, jsonRecord(12)])
    expect(h.log).toEqual(['send', 'flushed', 'remember 2', 'commit 13'])
    expect(deadLetterText(h.sent[0])).not.toMatch(/peltrow|u-1002|Export to PDF/i)
    const dead = deadLetterIn(h.sent[0], 'audit.dlq')
    expect(dead).toMatchObject({
      errorClass: 'EVENT_INVALID',
      message: sealedErrorMessageText,
      key: Buffer.from('witify/ticket/9548-B1'),
      source: { topic, partition, offset: '11' },
      sealed: { keyId: (await keys.dataKeyFor('witify', 'u-1002')).id },
    })
    expect(h.deadLettersCounted).toEqual(['EVENT_INVALID'])
    const opened = await deadLetterOpener(keys)(dead as SealedDeadLetter)
    expect(opened).toMatchObject({ state: 'opened', tenant: 'witify' })
    if (opened.state !== 'opened') return
    expect(opened.value.equals(refused.value!)).toBe(true)
    expect(opened.message).toBe("invalid audit event: (event): unknown field 'jack.peltrow@example.com'")
  })

  it("seals a refused batch of two subjects' events for both: erasing either leaves it unreadable", async () => {
    const keys = keyStore()
    const h = harness({ reader: { redaction, fieldKeys: keys } })
    const jack = { ...ticketJson(30), 'jack.peltrow@example.com': true }
    const alex = { ...ticketJson(31), actor: { ...(ticketJson(31)['actor'] as object), id: 'u-1001' } }
    const batch = record(30, JSON.stringify([jack, alex]))
    await h.run([batch])
    expect(deadLetterText(h.sent[0])).not.toMatch(/peltrow|u-1002|u-1001|Export to PDF/i)
    const dead = deadLetterIn(h.sent[0], 'audit.dlq') as SealedDeadLetter
    const ids = [
      (await keys.dataKeyFor('witify', 'u-1001')).id,
      (await keys.dataKeyFor('witify', 'u-1002')).id,
    ]
    expect(dead.sealed.keyId).toBe(ids.join(','))
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({ state: 'opened', value: batch.value })
    await keys.erase('witify', 'u-1001')
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({ state: 'erased' })
  })

  it('seals a refused Debezium change event under the key of the subject its adapter gives it', async () => {
    const keys = keyStore()
    const debezium = createDebeziumAdapter({
      tenant: 'witify',
      tables: { 'public.tickets': { objectType: 'ticket', actorColumn: 'updated_by' } },
    })
    const h = harness({
      reader: { redaction, fieldKeys: keys, adapters: [auditJsonAdapter, cloudEventsAdapter, debezium] },
    })
    const change = JSON.parse(
      readFileSync(
        join(import.meta.dirname, '../adapters/fixtures/debezium-ticket-update-priority.json'),
        'utf8',
      ),
    ) as { source: Record<string, unknown> }
    // Committed in 2030: refused by the event policy as a time in the future, after the adapter read it.
    const refused = record(
      40,
      JSON.stringify({ ...change, source: { ...change.source, ts_ms: 1_893_456_000_000 } }),
    )
    await h.run([refused])
    // Neither the tenant nor the row's writer is in the message's JSON: only the adapter's settings tell.
    expect(deadLetterText(h.sent[0])).not.toMatch(/Export to PDF|u-1002|Urgent/)
    const dead = deadLetterIn(h.sent[0], 'audit.dlq') as SealedDeadLetter
    expect(dead.errorClass).toBe('EVENT_INVALID')
    expect(dead.sealed.keyId).toBe((await keys.dataKeyFor('witify', 'u-1002')).id)
    expect(await deadLetterOpener(keys)(dead)).toMatchObject({ state: 'opened', value: refused.value })
  })

  it('keeps a message it cannot attribute as it came: not JSON, a tenant that does not encrypt, no subject', async () => {
    const h = harness({ reader: { redaction, fieldKeys: keyStore() } })
    const unattributable = [
      record(20, 'ticket 9548-B1 deleted'),
      invalid(21, { tenant: 'acme' }),
      invalid(22, { actor: null }),
    ]
    await h.run(unattributable)
    const request = h.sent[0] ?? []
    const letters = request.filter((t) => t.topic === 'audit.dlq').flatMap((t) => t.messages)
    expect(letters.map((m) => String(m.value))).toEqual(unattributable.map((r) => String(r.value)))
    expect(letters.every((m) => m.headers?.[deadLetterHeaderNames.sealed] === undefined)).toBe(true)
  })

  it('seals nothing without a key store, as before: no tenant encrypts then', async () => {
    const h = harness()
    await h.run([invalid(11)])
    expect(deadLetterIn(h.sent[0], 'audit.dlq')).toMatchObject({
      errorClass: 'EVENT_INVALID',
      message: expect.stringMatching(/jack\.peltrow/) as string,
    })
  })

  it('seals the dead letter of an Avro message whose reading threw, by the event it decodes to', async () => {
    let calls = 0
    const keys = keyStore()
    const h = harness({
      reader: { redaction, fieldKeys: keys },
      decodeAvro: (value) =>
        calls++ === 0
          ? Promise.reject(new RangeError('Maximum call stack size exceeded'))
          : decodeAvro(value),
    })
    await h.run([avroRecord(10)])
    const dead = deadLetterIn(h.sent[0], 'audit.dlq')
    expect(dead).toMatchObject({ errorClass: 'RECORD_FAILED', reason: 'RANGE_ERROR', sealed: {} })
    expect(await deadLetterOpener(keys)(dead as SealedDeadLetter)).toMatchObject({
      state: 'opened',
      value: avroValue(10),
      message: 'processing the record failed: RangeError: Maximum call stack size exceeded',
    })
  })

  it('holds the message while the key store fails, sending what came before; never a dead letter in plaintext', async () => {
    // sealDeadLetter asks for the data key and the index key at once: two calls per attempt. Both
    // fail when the message is first read, and again on the first attempt once it is held.
    const h = harness({ reader: { redaction, fieldKeys: keyStore(4) } })
    await h.run([jsonRecord(10), invalid(11), jsonRecord(12)])
    expect(h.log).toEqual([
      ...['send', 'flushed', 'remember 1', 'commit 11'],
      'retry 0',
      ...['send', 'flushed', 'remember 1', 'commit 13'],
    ])
    expect(new Set(h.waitedFor)).toEqual(new Set(['field key store']))
    expect(h.retried[0]).toBeInstanceOf(KeyStoreUnavailableError)
    expect(h.sent[0]?.map((t) => t.topic)).toEqual(['audit.normalized'])
    expect(deadLetterIn(h.sent[1], 'audit.dlq').sealed).toBeDefined()
    expect(deadLetterText(h.sent[1])).not.toMatch(/peltrow/i)
  })

  it('writes nothing of the held message when the wait is cut short (stop, restart)', async () => {
    const cutShort = harness({
      reader: { redaction, fieldKeys: keyStore(Number.POSITIVE_INFINITY) },
      onRetry: () => cutShort.aborting.abort(),
    })
    await cutShort.submit(jsonRecord(10))
    await expect(cutShort.submit(invalid(11))).rejects.toBeInstanceOf(KeyStoreUnavailableError)
    await cutShort.steps.join()
    expect(cutShort.sent.flat().map((t) => t.topic)).toEqual(['audit.normalized'])
    expect(cutShort.deadLettersCounted).toEqual([])
  })
})
