import { isDeepStrictEqual } from 'node:util'
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type IMemberAssignment } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { uniqueName, waitFor } from '@audit-pipeline/testing'

/**
 * What the pipeline needs from the broker, checked with kafkajs against the real one: topic
 * administration, idempotent produce with acks from every in-sync replica, consumer groups that
 * share partitions and commit offsets, and consume-transform-produce transactions whose aborts
 * stay invisible to read-committed consumers.
 */
const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'infra-kafka-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})
const createPartitioner = Partitioners.DefaultPartitioner
const timeoutMs = 30_000

/** Partition → offset (an end offset is the offset the broker will give the next record). */
type Offsets = Record<number, number>
type Received = { partition: number; offset: number; value: string | undefined }

/** Connects a kafkajs client and disconnects it when the test finishes, whether or not it passed. */
async function connected<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  client: T,
): Promise<T> {
  onTestFinished(() => client.disconnect())
  await client.connect()
  return client
}

async function createTopics(admin: Admin, partitionsByTopic: Record<string, number>): Promise<void> {
  const topics = Object.entries(partitionsByTopic).map(([topic, numPartitions]) => ({ topic, numPartitions }))
  expect(await admin.createTopics({ topics, waitForLeaders: true })).toBe(true)
}

async function endOffsets(admin: Admin, topic: string): Promise<Offsets> {
  const partitions = await admin.fetchTopicOffsets(topic)
  return Object.fromEntries(partitions.map(({ partition, high }) => [partition, Number(high)]))
}

async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Offsets> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
  return Object.fromEntries((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
}

const sum = (offsets: Offsets): number => Object.values(offsets).reduce((total, n) => total + n, 0)
const byPartition = (a: { partition: number }, b: { partition: number }): number => a.partition - b.partition
const byPosition = (a: Received, b: Received): number => byPartition(a, b) || a.offset - b.offset

/**
 * Polls broker state that settles asynchronously (transaction markers and transactional offset
 * commits are written after `commit()` returns) until it equals `expected`; fails with the last
 * value seen.
 */
async function expectEventually<T>(read: () => Promise<T>, expected: T, description: string): Promise<void> {
  let last: T | undefined
  await waitFor(
    async () => {
      last = await read()
      return isDeepStrictEqual(last, expected)
    },
    { timeoutMs, description },
  ).catch(() => undefined)
  expect(last, description).toEqual(expected)
}

/**
 * Runs `consumer` on `topic` from the beginning, recording what it delivers and its position (the
 * next offset it will read) per partition. The position comes from each batch's last offset, which
 * counts transaction markers and aborted records: offsets a consumer passes but never delivers.
 * kafkajs reports a batch's end only after handing over all its messages, so everything before
 * the position has been received.
 */
async function consume(consumer: Consumer, topic: string) {
  const received: Received[] = []
  const positions = new Map<number, number>()
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) positions.set(payload.partition, Number(payload.lastOffset) + 1)
  })
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      received.push({ partition, offset: Number(message.offset), value: message.value?.toString() })
      return Promise.resolve()
    },
  })
  return { received, positions }
}

const reached = (positions: Map<number, number>, end: Offsets): boolean =>
  Object.entries(end).every(([partition, offset]) => (positions.get(Number(partition)) ?? 0) >= offset)

/**
 * Reads `topic` with a fresh consumer group until its position reaches `end` on every partition,
 * so everything up to `end` has been delivered (or skipped) and nothing later is waited for.
 */
async function readToEnd(topic: string, end: Offsets, { readUncommitted = false } = {}): Promise<Received[]> {
  const groupId = uniqueName('infra_reader')
  const consumer = await connected(kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 }))
  const { received, positions } = await consume(consumer, topic)
  await waitFor(() => reached(positions, end), {
    timeoutMs,
    description: `a consumer of ${topic} to reach ${JSON.stringify(end)}`,
  })
  await consumer.disconnect()
  return received.sort(byPosition)
}

describe('Kafka broker', () => {
  // Topics are created with the partitions asked for, and a new topic's offsets all start at 0.
  it('creates a topic with 3 partitions and reports its offsets', async () => {
    const admin = await connected(kafka.admin())
    const topic = uniqueName('infra_admin')

    await createTopics(admin, { [topic]: 3 })

    expect(await admin.listTopics()).toContain(topic)
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2])
    const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
    expect(offsets).toEqual([0, 1, 2].map((partition) => ({ partition, offset: '0', high: '0', low: '0' })))
    // `true` above meant "created": the same topic a second time is reported as not created.
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false)
  })

  // An idempotent producer with acks=-1 writes each record exactly once, keyed records on the
  // partition the key hashes to, and the end offsets count exactly what was written.
  it('stores what an idempotent producer sends with acks=-1, once, and end offsets reflect it', async () => {
    const admin = await connected(kafka.admin())
    const topic = uniqueName('infra_idempotent')
    await createTopics(admin, { [topic]: 3 })
    const producer = await connected(
      kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner }),
    )
    expect(producer.isIdempotent()).toBe(true)

    const keyed = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }))
    const sent = await producer.send({ topic, acks: -1, messages: keyed })
    expect(sent.every((record) => record.errorCode === 0)).toBe(true)

    // Where each record should be: its partition by key hash, at that partition's next offset.
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics
    const partitionOf = createPartitioner()
    const expected: Offsets = { 0: 0, 1: 0, 2: 0 }
    const append = (partition: number, value: string): Received => {
      const offset = expected[partition] ?? 0
      expected[partition] = offset + 1
      return { partition, offset, value }
    }
    const expectedRecords = keyed.map((message) =>
      append(partitionOf({ topic, partitionMetadata: metadata!.partitions, message }), message.value),
    )
    expect(Object.values(expected).every((count) => count > 0)).toBe(true) // keys spread over all 3
    expect(await endOffsets(admin, topic)).toEqual(expected)

    const batch = await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic,
          messages: [
            { partition: 0, value: 'p0' },
            { partition: 1, value: 'p1' },
          ],
        },
      ],
    })
    expect(batch.map(({ partition, baseOffset }) => ({ partition, baseOffset })).sort(byPartition)).toEqual([
      { partition: 0, baseOffset: String(expected[0]) },
      { partition: 1, baseOffset: String(expected[1]) },
    ])
    expectedRecords.push(append(0, 'p0'), append(1, 'p1'))
    const end = await endOffsets(admin, topic)
    expect(end).toEqual(expected)
    expect(sum(end)).toBe(32)

    expect(await readToEnd(topic, end)).toEqual(expectedRecords.sort(byPosition))
  })

  // Two members of one group split 4 partitions 2+2; every record is delivered once, to the
  // member owning its partition, in order; the committed offsets are the end offsets.
  it('shares 4 partitions between two group members and commits their offsets', async () => {
    const admin = await connected(kafka.admin())
    const topic = uniqueName('infra_group')
    const groupId = uniqueName('infra_group')
    await createTopics(admin, { [topic]: 4 })

    const assignments = new Map<string, number[]>()
    const member = async (name: string) => {
      const consumer = await connected(
        kafka.consumer({ groupId, heartbeatInterval: 300, maxWaitTimeInMs: 100 }),
      )
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        const assignment: IMemberAssignment = payload.memberAssignment
        assignments.set(name, [...(assignment[topic] ?? [])].sort())
      })
      return { consumer, ...(await consume(consumer, topic)) }
    }
    const assigned = (name: string) => assignments.get(name)?.length

    const a = await member('a')
    await waitFor(() => assigned('a') === 4, { timeoutMs, description: 'the first member to own all 4' })
    const b = await member('b')
    await waitFor(() => assigned('a') === 2 && assigned('b') === 2, {
      timeoutMs,
      description: 'the group to rebalance to 2+2',
    })
    expect([...assignments.get('a')!, ...assignments.get('b')!].sort()).toEqual([0, 1, 2, 3])

    const producer = await connected(kafka.producer({ createPartitioner }))
    const values = Array.from({ length: 40 }, (_, i) => `m${i}`)
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, i) => ({ partition: i % 4, value })),
    })
    const end = await endOffsets(admin, topic)
    expect(end).toEqual({ 0: 10, 1: 10, 2: 10, 3: 10 })
    await waitFor(() => reached(new Map([...a.positions, ...b.positions]), end), {
      timeoutMs,
      description: 'both members to reach the end of their partitions',
    })

    const described = (await admin.describeGroups([groupId])).groups[0]
    expect(described?.state).toBe('Stable')
    expect(described?.members).toHaveLength(2)
    for (const [name, { received }] of [
      ['a', a],
      ['b', b],
    ] as const) {
      expect(received).toHaveLength(20)
      expect(new Set(received.map((r) => r.partition))).toEqual(new Set(assignments.get(name)))
    }
    // Offset k of partition p holds m(4k+p): all 40 records, each once, in order per partition.
    expect([...a.received, ...b.received].sort(byPosition)).toEqual(
      values
        .map((_, i) => ({ partition: i % 4, offset: Math.floor(i / 4), value: `m${i}` }))
        .sort(byPosition),
    )

    // kafkajs commits after each batch, and disconnecting waits for the batch in hand.
    await Promise.all([a.consumer.disconnect(), b.consumer.disconnect()])
    expect(await committedOffsets(admin, groupId, topic)).toEqual(end)
  })

  // Consume A, produce to B and commit A's offsets in one transaction per batch: the group's
  // committed offsets end at A's end, and a read-committed consumer sees each result exactly once.
  it('runs consume-transform-produce transactions with the offsets committed in them', async () => {
    const admin = await connected(kafka.admin())
    const [source, sink] = [uniqueName('infra_tx_in'), uniqueName('infra_tx_out')]
    const groupId = uniqueName('infra_tx_group')
    await createTopics(admin, { [source]: 2, [sink]: 2 })

    const producer = await connected(
      kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner }),
    )
    const inputs = Array.from({ length: 12 }, (_, i) => `in-${i}`)
    await producer.send({
      topic: source,
      acks: -1,
      messages: inputs.map((value, i) => ({ key: `k${i}`, value })),
    })
    const sourceEnd = await endOffsets(admin, source)
    expect(sum(sourceEnd)).toBe(12)
    expect(Object.values(sourceEnd).every((n) => n > 0)).toBe(true) // both partitions in play

    const txProducer = await connected(
      kafka.producer({ transactionalId: uniqueName('infra_tx'), idempotent: true, maxInFlightRequests: 1 }),
    )
    const consumer = await connected(kafka.consumer({ groupId, maxWaitTimeInMs: 100 }))
    // Source partition p goes to sink partition p; each transaction adds a commit marker after its records.
    const sinkEnd: Offsets = { 0: 0, 1: 0 }
    const processedInOrder: Record<number, string[]> = { 0: [], 1: [] }
    let processed = 0
    let failure: unknown
    await consumer.subscribe({ topics: [source], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const transaction = await txProducer.transaction()
        const outputs = batch.messages.map((m) => `out-${m.value?.toString()}`)
        try {
          await transaction.send({
            topic: sink,
            acks: -1,
            messages: outputs.map((value) => ({ partition: batch.partition, value })),
          })
          const next = (BigInt(batch.lastOffset()) + 1n).toString()
          await transaction.sendOffsets({
            consumerGroupId: groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          })
          await transaction.commit()
        } catch (error) {
          failure = error
          await transaction.abort().catch(() => undefined)
          throw error
        }
        processedInOrder[batch.partition]!.push(...outputs)
        sinkEnd[batch.partition]! += outputs.length + 1
        processed += outputs.length
      },
    })
    await waitFor(() => failure !== undefined || processed >= inputs.length, {
      timeoutMs,
      description: 'the transactional processing of the source topic',
    })
    await consumer.disconnect()
    expect(failure).toBeUndefined()
    expect(processed).toBe(inputs.length)

    // Only the transactions committed offsets (autoCommit is off), and they reach the source's end.
    await expectEventually(
      () => committedOffsets(admin, groupId, source),
      sourceEnd,
      'committed offsets = source end offsets',
    )
    await expectEventually(() => endOffsets(admin, sink), sinkEnd, 'sink end offsets = records + markers')
    const delivered = await readToEnd(sink, sinkEnd)
    expect(delivered.map((r) => r.value).sort()).toEqual(inputs.map((value) => `out-${value}`).sort())
    for (const partition of [0, 1]) {
      expect(delivered.filter((r) => r.partition === partition).map((r) => r.value)).toEqual(
        processedInOrder[partition],
      )
    }
  })

  // An aborted transaction's records stay in the log but a read-committed consumer skips them;
  // a read-uncommitted consumer sees them. Markers occupy offsets too.
  it('hides an aborted transaction from read-committed consumers only', async () => {
    const admin = await connected(kafka.admin())
    const topic = uniqueName('infra_tx_abort')
    await createTopics(admin, { [topic]: 1 })
    const producer = await connected(
      kafka.producer({ transactionalId: uniqueName('infra_tx'), idempotent: true, maxInFlightRequests: 1 }),
    )

    const committed1 = await producer.transaction()
    await committed1.send({ topic, messages: [{ value: 'committed-1' }] })
    await committed1.commit()
    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] })
    await aborted.abort()
    const committed2 = await producer.transaction()
    await committed2.send({ topic, messages: [{ value: 'committed-2' }] })
    await committed2.commit()

    // Offsets: committed-1 0, marker 1, aborted-1 2, aborted-2 3, marker 4, committed-2 5, marker 6.
    const end = { 0: 7 }
    await expectEventually(() => endOffsets(admin, topic), end, 'the end offset after 4 records + 3 markers')
    expect(await readToEnd(topic, end)).toEqual([
      { partition: 0, offset: 0, value: 'committed-1' },
      { partition: 0, offset: 5, value: 'committed-2' },
    ])
    expect(await readToEnd(topic, end, { readUncommitted: true })).toEqual([
      { partition: 0, offset: 0, value: 'committed-1' },
      { partition: 0, offset: 2, value: 'aborted-1' },
      { partition: 0, offset: 3, value: 'aborted-2' },
      { partition: 0, offset: 5, value: 'committed-2' },
    ])
  })
})
