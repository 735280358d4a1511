import { Kafka, logLevel, type KafkaMessage, type Message } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { uniqueName, waitFor } from '@audit-pipeline/testing'
import { deadLetterHeaderPrefix, replayedFromHeaderName } from './deadLetterHeaders.js'
import { buildDeadLetter } from './deadLetterRecord.js'
import { DeadLetterToolError } from './deadLetterToolError.js'
import { listDeadLetters } from './listDeadLetters.js'
import { replayDeadLetters } from './replayDeadLetters.js'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'dead-letter-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

async function withAdmin<T>(use: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await use(admin)
  } finally {
    await admin.disconnect()
  }
}

async function newTopic(prefix: string, numPartitions = 1): Promise<string> {
  const topic = uniqueName(prefix)
  await withAdmin(async (admin) => {
    await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })
    await waitFor(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
        return (
          topics[0]?.partitions.length === numPartitions && topics[0].partitions.every((p) => p.leader >= 0)
        )
      },
      { timeoutMs: 30_000, description: `metadata of ${topic}` },
    )
  })
  return topic
}

async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic, messages, acks: -1 })
  } finally {
    await producer.disconnect()
  }
}

/** How many messages the topic holds: whether anything was sent, without waiting. */
async function messageCount(topic: string): Promise<number> {
  const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic))
  return offsets.reduce((sum, { high, low }) => sum + Number(high) - Number(low), 0)
}

async function readBack(topic: string, count: number): Promise<KafkaMessage[]> {
  const received: KafkaMessage[] = []
  const consumer = kafka.consumer({ groupId: uniqueName('dlq_reader'), maxWaitTimeInMs: 100 })
  await consumer.connect()
  onTestFinished(() => consumer.disconnect())
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachMessage: ({ message }) => Promise.resolve(void received.push(message)) })
  await waitFor(() => received.length >= count, {
    timeoutMs: 30_000,
    description: `${count} messages in ${topic}`,
  })
  return received
}

type Fixture = {
  errorClass: string
  sourceTopic: string
  service?: string
  failedAt?: string
  key?: string
}

/** A dead letter as a service writes it, for `partition` of the dead-letter topic. */
function deadLetter(n: number, fixture: Fixture, partition = 0): Message {
  return {
    ...buildDeadLetter({
      source: {
        topic: fixture.sourceTopic,
        partition: 0,
        offset: String(100 + n),
        timestamp: String(Date.parse('2026-03-01T00:00:00Z') + n),
        key: Buffer.from(fixture.key ?? `key-${n}`),
        // Bytes that are not UTF-8, to show they travel untouched.
        value: Buffer.from([0x00, 0xff, n, 0x80]),
        headers: { 'trace-id': `trace-${n}` },
      },
      error: { errorClass: fixture.errorClass, message: `failure ${n}` },
      service: fixture.service ?? 'normalizer',
      now: new Date(fixture.failedAt ?? '2026-03-01T10:00:00Z'),
    }),
    partition,
  }
}

const locations = (dead: { dlq: { partition: number; offset: string } }[]) =>
  dead.map((d) => `${d.dlq.partition}/${d.dlq.offset}`)

describe('listDeadLetters', () => {
  it('lists from the beginning in (partition, offset) order, filters, limits and reports foreign messages', async () => {
    const dlq = await newTopic('dlq_list', 2)
    // Partition 1 is written first: the order of the listing is the topic's, not the arrival's.
    await produce(dlq, [
      deadLetter(
        3,
        { errorClass: 'EVENT_INVALID', sourceTopic: 'src.b', failedAt: '2026-03-01T12:00:00Z' },
        1,
      ),
      deadLetter(
        4,
        { errorClass: 'SCHEMA_UNKNOWN', sourceTopic: 'src.a', failedAt: '2026-03-01T13:00:00Z' },
        1,
      ),
    ])
    await produce(dlq, [
      deadLetter(
        1,
        { errorClass: 'EVENT_INVALID', sourceTopic: 'src.a', failedAt: '2026-03-01T10:00:00Z' },
        0,
      ),
      { value: 'not a dead letter', partition: 0 },
      deadLetter(
        2,
        {
          errorClass: 'EVENT_UNDECODABLE',
          sourceTopic: 'src.b',
          service: 'clickhouse-sink',
          failedAt: '2026-03-01T11:00:00Z',
        },
        0,
      ),
    ])

    const all = await listDeadLetters({ kafka, topic: dlq, limit: 100 })
    expect(locations(all.deadLetters)).toEqual(['0/0', '0/2', '1/0', '1/1'])
    expect(all.deadLetters.map((d) => d.message)).toEqual([
      'failure 1',
      'failure 2',
      'failure 3',
      'failure 4',
    ])
    expect(all.deadLetters[1]).toMatchObject({
      dlq: { topic: dlq, partition: 0, offset: '2' },
      errorClass: 'EVENT_UNDECODABLE',
      service: 'clickhouse-sink',
      source: { topic: 'src.b', partition: 0, offset: '102' },
      failedAt: new Date('2026-03-01T11:00:00Z'),
      key: Buffer.from('key-2'),
      value: Buffer.from([0x00, 0xff, 2, 0x80]),
      originalHeaders: { 'trace-id': Buffer.from('trace-2') },
    })
    expect(all.limited).toBe(false)
    expect(all.unreadable.map((e) => e.message)).toEqual([
      expect.stringMatching(
        new RegExp(`^message ${dlq}/0/1 is not a dead letter: header audit-dlq-error-class is missing;`),
      ),
    ])

    const byClass = await listDeadLetters({
      kafka,
      topic: dlq,
      limit: 100,
      filter: { errorClass: 'EVENT_INVALID' },
    })
    expect(locations(byClass.deadLetters)).toEqual(['0/0', '1/0'])
    const bySource = await listDeadLetters({
      kafka,
      topic: dlq,
      limit: 100,
      filter: { sourceTopic: 'src.b' },
    })
    expect(locations(bySource.deadLetters)).toEqual(['0/2', '1/0'])
    const recent = await listDeadLetters({
      kafka,
      topic: dlq,
      limit: 100,
      filter: { service: 'normalizer', failedSince: new Date('2026-03-01T11:30:00Z') },
    })
    expect(locations(recent.deadLetters)).toEqual(['1/0', '1/1'])

    const firstTwo = await listDeadLetters({ kafka, topic: dlq, limit: 2 })
    expect([locations(firstTwo.deadLetters), firstTwo.limited]).toEqual([['0/0', '0/2'], true])
    const exactlyAll = await listDeadLetters({ kafka, topic: dlq, limit: 4 })
    expect([exactlyAll.deadLetters.length, exactlyAll.limited]).toEqual([4, false])
  })

  it('returns at once for an empty topic, and names a missing topic without creating it', async () => {
    const empty = await newTopic('dlq_empty', 3)
    expect(await listDeadLetters({ kafka, topic: empty, limit: 10 })).toEqual({
      deadLetters: [],
      unreadable: [],
      limited: false,
    })

    const missing = uniqueName('dlq_missing')
    const failure = listDeadLetters({ kafka, topic: missing, limit: 10 })
    await expect(failure).rejects.toThrow(`topic ${missing} does not exist`)
    await expect(failure).rejects.toBeInstanceOf(DeadLetterToolError)
    expect(await withAdmin((admin) => admin.listTopics())).not.toContain(missing)
    await expect(listDeadLetters({ kafka, topic: empty, limit: 0 })).rejects.toThrow(
      'limit must be a positive integer; got 0',
    )
  })
  it('ends at transaction markers, after committed and after aborted dead letters', async () => {
    const [committed, aborted] = await Promise.all([newTopic('dlq_committed'), newTopic('dlq_aborted')])
    const producer = kafka.producer({
      transactionalId: uniqueName('dlq_writer'),
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await producer.connect()
    onTestFinished(() => producer.disconnect())
    for (const [topic, outcome] of [
      [committed, 'commit'],
      [aborted, 'abort'],
    ] as const) {
      const transaction = await producer.transaction()
      await transaction.send({
        topic,
        messages: [
          deadLetter(1, { errorClass: 'EVENT_INVALID', sourceTopic: 'src.a' }),
          deadLetter(2, { errorClass: 'EVENT_INVALID', sourceTopic: 'src.a' }),
        ],
      })
      await transaction[outcome]()
      // The marker takes offset 2, so the end is 3, past the last dead letter. Kafka writes it
      // after the commit or abort returns, and the end a committed reader sees moves then.
      await waitFor(
        async () => (await withAdmin((admin) => admin.fetchTopicOffsets(topic)))[0]?.high === '3',
        { timeoutMs: 30_000, description: `the transaction marker in ${topic}` },
      )
    }

    const listed = await listDeadLetters({ kafka, topic: committed, limit: 10 })
    expect(locations(listed.deadLetters)).toEqual(['0/0', '0/1'])
    // Nothing but aborted records and a marker: no batch reaches the reader's handler, and the
    // read must still end.
    expect(await listDeadLetters({ kafka, topic: aborted, limit: 10 })).toEqual({
      deadLetters: [],
      unreadable: [],
      limited: false,
    })
  })
})

describe('replayDeadLetters', () => {
  it('re-sends each dead letter to its source topic as it was, once, and remembers it', async () => {
    const [dlq, sourceA, sourceB] = await Promise.all([
      newTopic('dlq_replay', 2),
      newTopic('src_a'),
      newTopic('src_b'),
    ])
    await produce(dlq, [
      deadLetter(1, { errorClass: 'EVENT_INVALID', sourceTopic: sourceA }, 0),
      deadLetter(2, { errorClass: 'EVENT_INVALID', sourceTopic: sourceB }, 1),
      deadLetter(3, { errorClass: 'EVENT_TOO_LARGE', sourceTopic: sourceA }, 1),
      { value: 'not a dead letter', partition: 0 },
    ])

    const first = await replayDeadLetters({ kafka, topic: dlq })
    expect(first).toMatchObject({
      replayed: 3,
      skipped: 0,
      byTarget: { [sourceA]: 2, [sourceB]: 1 },
      dryRun: false,
      progressRemembered: true,
    })
    expect(first.unreadable.map((e) => e.location)).toEqual([{ topic: dlq, partition: 0, offset: '1' }])

    const replayedA = await readBack(sourceA, 2)
    const byKey = new Map(replayedA.map((m) => [m.key?.toString(), m]))
    for (const [n, dlqLocation] of [
      [1, `${dlq}/0/0`],
      [3, `${dlq}/1/1`],
    ] as const) {
      const message = byKey.get(`key-${n}`)
      expect(message?.value).toEqual(Buffer.from([0x00, 0xff, n, 0x80]))
      expect(message?.headers).toEqual({
        'trace-id': Buffer.from(`trace-${n}`),
        [replayedFromHeaderName]: Buffer.from(dlqLocation),
      })
      expect(Object.keys(message?.headers ?? {}).filter((h) => h.startsWith(deadLetterHeaderPrefix))).toEqual(
        [],
      )
    }
    expect((await readBack(sourceB, 1))[0]?.headers?.[replayedFromHeaderName]).toEqual(
      Buffer.from(`${dlq}/1/0`),
    )

    const second = await replayDeadLetters({ kafka, topic: dlq })
    expect([second.replayed, second.byTarget]).toEqual([0, {}])
    expect([await messageCount(sourceA), await messageCount(sourceB)]).toEqual([2, 1])

    await produce(dlq, [deadLetter(4, { errorClass: 'EVENT_INVALID', sourceTopic: sourceB }, 0)])
    const third = await replayDeadLetters({ kafka, topic: dlq })
    expect([third.replayed, third.byTarget]).toEqual([1, { [sourceB]: 1 }])
    expect(await messageCount(sourceB)).toBe(2)

    const again = await replayDeadLetters({ kafka, topic: dlq, fromStart: true })
    expect([again.replayed, again.byTarget]).toEqual([4, { [sourceA]: 2, [sourceB]: 2 }])
    expect([await messageCount(sourceA), await messageCount(sourceB)]).toEqual([4, 4])
    expect((await replayDeadLetters({ kafka, topic: dlq })).replayed).toBe(0)
  })

  it('sends nothing in a dry run, and never remembers a filtered replay', async () => {
    const [dlq, target] = await Promise.all([newTopic('dlq_filter', 2), newTopic('replay_target')])
    await produce(dlq, [
      deadLetter(1, { errorClass: 'EVENT_INVALID', sourceTopic: 'gone.a' }, 0),
      deadLetter(2, { errorClass: 'EVENT_TOO_LARGE', sourceTopic: 'gone.b' }, 0),
      deadLetter(3, { errorClass: 'EVENT_INVALID', sourceTopic: 'gone.a' }, 1),
    ])

    const dry = await replayDeadLetters({ kafka, topic: dlq, to: target, dryRun: true })
    expect(dry).toMatchObject({
      replayed: 3,
      byTarget: { [target]: 3 },
      dryRun: true,
      progressRemembered: false,
    })
    expect(await messageCount(target)).toBe(0)

    const filter = { errorClass: 'EVENT_INVALID' }
    const filtered = await replayDeadLetters({ kafka, topic: dlq, to: target, filter })
    expect(filtered).toMatchObject({ replayed: 2, skipped: 1, progressRemembered: false })
    expect(await messageCount(target)).toBe(2)
    expect((await readBack(target, 2)).map((m) => m.key?.toString()).sort()).toEqual(['key-1', 'key-3'])

    // The documented trade-off: the filter is the selection, so the same replay sends again...
    expect((await replayDeadLetters({ kafka, topic: dlq, to: target, filter })).replayed).toBe(2)
    // ...and nothing was remembered past the dead letter the filter left out.
    expect((await replayDeadLetters({ kafka, topic: dlq, to: target })).replayed).toBe(3)
    expect((await replayDeadLetters({ kafka, topic: dlq, to: target })).replayed).toBe(0)
    expect(await messageCount(target)).toBe(7)
  })

  it('refuses a target topic that does not exist, and remembers nothing of the refused batch', async () => {
    const [dlq, target] = await Promise.all([newTopic('dlq_missing_target'), newTopic('replay_target')])
    const gone = uniqueName('deleted_source')
    await produce(dlq, [deadLetter(1, { errorClass: 'EVENT_INVALID', sourceTopic: gone })])

    const failure = replayDeadLetters({ kafka, topic: dlq })
    await expect(failure).rejects.toThrow(
      `dead letter ${dlq}/0/0 would be replayed to topic ${gone}, which does not exist: create it, or replay to another topic`,
    )
    await expect(replayDeadLetters({ kafka, topic: dlq, to: gone })).rejects.toThrow(
      `topic ${gone} to replay to does not exist`,
    )
    expect(await withAdmin((admin) => admin.listTopics())).not.toContain(gone)
    expect((await replayDeadLetters({ kafka, topic: dlq, to: target })).replayed).toBe(1)
  })
})
