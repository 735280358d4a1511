import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs'
import type { ClientConsumer, ConsumedBatch, KafkaClientAdapter, OutRecord } from './kafkaClientsAdapter.js'
import { assignmentSettled } from './kafkaClientsAssignment.js'
import { checkDelivery, type ReadRecord } from './kafkaClientsDelivery.js'
import { committedOffsets, readTopic, topicEnds } from './kafkaClientsReader.js'
import { benchRecords } from './kafkaClientsRecords.js'
import { createBenchTopics } from './benchTopics.js'

/** The guarantees the pipeline relies on (issue 18), each checked by a short script against the broker. */
export const guaranteeNames = [
  'idempotent producer',
  'idempotent producer through a broker stall',
  'transactions: consume-transform-produce, offsets in the transaction',
  'transactions: abort',
  'transactions: fencing by a second producer with the id',
  'consumer group rebalance',
  'manual commits',
] as const
export type GuaranteeName = (typeof guaranteeNames)[number]

export type GuaranteeResult = {
  guarantee: GuaranteeName
  passed: boolean
  detail: string
  /** Held, but not cleanly: e.g. sends failed (the caller was told, so it can retry). */
  caveat?: string
}

const partitions = 6
const deadlineMs = 60_000
/**
 * How long the stall check stops the broker: past @platformatic/kafka's default request timeout
 * (5 s), within kafkajs's and librdkafka's (30 s), as a broker's long GC pause or a leader that
 * stops answering would be.
 */
export const brokerStallMs = 8_000

/**
 * Runs every check with `adapter` (the client under test), kafkajs being the referee: it creates
 * the topics, fills the inputs, reads outputs back (read_committed) and asks the broker about
 * groups and committed offsets. A check that throws fails with the error's message.
 */
export async function checkGuarantees(
  adapter: KafkaClientAdapter,
  options: { brokers: string[]; stamp: string; brokerPid?: number },
): Promise<GuaranteeResult[]> {
  const name = (what: string) => `bench_kc_${what}_${adapter.name}_${options.stamp}`
  const referee = new Kafka({
    clientId: 'bench-referee',
    brokers: options.brokers,
    logLevel: logLevel.NOTHING,
  })
  const admin = referee.admin()
  await admin.connect()
  const context: CheckContext = {
    adapter,
    admin,
    referee,
    brokers: options.brokers,
    name,
    ...(options.brokerPid !== undefined && { brokerPid: options.brokerPid }),
  }
  const results: GuaranteeResult[] = []
  try {
    const checks: [GuaranteeName, (context: CheckContext) => Promise<{ passed: boolean; detail: string }>][] =
      [
        ['idempotent producer', idempotentProducer],
        ['idempotent producer through a broker stall', idempotentThroughStall],
        ['transactions: consume-transform-produce, offsets in the transaction', exactlyOnce],
        ['transactions: abort', abortedTransaction],
        ['transactions: fencing by a second producer with the id', fencing],
        ['consumer group rebalance', rebalance],
        ['manual commits', manualCommits],
      ]
    for (const [guarantee, check] of checks) {
      try {
        results.push({ guarantee, ...(await check(context)) })
      } catch (error) {
        results.push({ guarantee, passed: false, detail: describeError(error) })
      }
    }
  } finally {
    await admin.disconnect()
  }
  return results
}

type CheckContext = {
  adapter: KafkaClientAdapter
  admin: Admin
  referee: Kafka
  brokers: string[]
  name: (what: string) => string
  /** The bench's own broker (one node), which the stall check stops and continues. */
  brokerPid?: number
}

/**
 * 1,200 records in sends of 100, 4 in flight, into a topic created a moment before (as a service
 * producing to a new topic). A send may fail (the client says so), but no record may be written
 * twice, and every acknowledged record must be there.
 */
async function idempotentProducer({ adapter, admin, brokers, name }: CheckContext) {
  const topic = name('idempotent')
  await createBenchTopics(admin, [topic], { partitions })
  const sent = await sendTracked(adapter, { topic, records: benchRecords(0, 1_200), perSend: 100 })
  return idempotenceVerdict(
    sent,
    await readTopic({ brokers, admin, topic }),
    '4 sends in flight into a new topic: ',
  )
}

/**
 * 30,000 records in sends of 500, 4 in flight; after the 10th send the broker is stopped
 * (SIGSTOP) for brokerStallMs, then continued. The same verdict: a client that re-sends under a
 * new producer id after a timeout writes duplicates the broker cannot drop.
 */
async function idempotentThroughStall({ adapter, admin, brokers, name, brokerPid }: CheckContext) {
  if (brokerPid === undefined) return { passed: false, detail: 'not verified: no broker PID to stop' }
  const topic = name('stall')
  await createBenchTopics(admin, [topic], { partitions })
  let continued: Promise<void> | undefined
  const stall = () => {
    process.kill(brokerPid, 'SIGSTOP')
    continued = new Promise((resolve) =>
      setTimeout(() => {
        process.kill(brokerPid, 'SIGCONT')
        resolve()
      }, brokerStallMs),
    )
  }
  let sent: SentRecords
  try {
    sent = await sendTracked(adapter, {
      topic,
      records: benchRecords(0, 30_000),
      perSend: 500,
      afterTenthSend: stall,
    })
  } finally {
    await continued
  }
  const read = await readTopic({ brokers, admin, topic })
  return idempotenceVerdict(sent, read, `broker stopped ${brokerStallMs / 1000} s mid-run: `)
}

type SentRecords = { count: number; rejected: Set<number>; errors: string[] }

/** Sends `records` through a new idempotent producer, 4 sends in flight, noting each failed send's records. */
async function sendTracked(
  adapter: KafkaClientAdapter,
  options: { topic: string; records: readonly OutRecord[]; perSend: number; afterTenthSend?: () => void },
): Promise<SentRecords> {
  const { records, perSend } = options
  const rejected = new Set<number>()
  const errors: string[] = []
  const producer = await adapter.producer({ clientId: 'bench-kc-idempotent' })
  try {
    const inFlight = new Set<Promise<void>>()
    for (let from = 0, sends = 1; from < records.length; from += perSend, sends++) {
      const to = Math.min(from + perSend, records.length)
      const sending: Promise<void> = producer
        .send(options.topic, records.slice(from, to))
        .catch((error: unknown) => {
          for (let sequence = from; sequence < to; sequence++) rejected.add(sequence)
          errors.push(describeError(error))
        })
        .finally(() => inFlight.delete(sending))
      inFlight.add(sending)
      if (sends === 10) options.afterTenthSend?.()
      if (inFlight.size >= 4) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
  } finally {
    await producer.close()
  }
  return { count: records.length, rejected, errors }
}

/** Passed: nothing twice, nothing acknowledged missing. Failed sends are the caveat: the caller was told. */
function idempotenceVerdict(
  sent: SentRecords,
  read: ReadRecord[],
  prefix: string,
): { passed: boolean; detail: string; caveat?: string } {
  const check = checkDelivery({ expected: sent.count, records: read, rejected: sent.rejected })
  const failed = sent.errors.length
  const caveat =
    failed > 0
      ? `${failed} send${failed === 1 ? '' : 's'} failed (${sent.errors[0]?.slice(0, 100)})`
      : undefined
  return {
    passed: check.passed,
    detail: `${prefix}${check.passed ? check.checked : check.problems.join('; ')}${caveat ? `; ${caveat}` : ''}`,
    ...(check.passed && caveat !== undefined && { caveat }),
  }
}

/**
 * 600 records forwarded, one transaction per batch holding its output and the group's offset
 * (the consumer never commits): the output read_committed holds each record once, and the
 * group's committed offsets are the input's end offsets.
 */
async function exactlyOnce({ adapter, admin, referee, brokers, name }: CheckContext) {
  const input = name('eos_in')
  const output = name('eos_out')
  const groupId = name('eos_group')
  await createBenchTopics(admin, [input, output], { partitions })
  await fill(referee, input, benchRecords(0, 600))
  const ends = await topicEnds(admin, input)
  const producer = await adapter.transactionalProducer({
    clientId: 'bench-kc-eos',
    transactionalId: name('eos_txn'),
  })
  let transactions = 0
  try {
    await consumeUntil(adapter, {
      groupId,
      topic: input,
      // One transaction at a time: a transactional producer has one open transaction.
      concurrency: 1,
      onBatch: async (batch, consumer) => {
        const last = batch.records.at(-1)
        if (!last) return false
        const transaction = await producer.begin()
        try {
          await transaction.send(output, batch.records)
          await transaction.sendOffsets(consumer, last)
          await transaction.commit()
        } catch (error) {
          await transaction.abort().catch(() => undefined)
          throw error
        }
        transactions++
        return last.offset + 1n >= (ends.get(batch.partition) ?? 0n)
      },
      partitionsDone: ends.size,
    })
  } finally {
    await producer.close()
  }
  const check = checkDelivery({
    expected: 600,
    records: await readTopic({ brokers, admin, topic: output }),
    offsets: { committed: await committedOffsets(admin, groupId, input), ends },
  })
  return {
    passed: check.passed,
    detail: check.passed
      ? `${transactions} transactions; ${check.checked} (offsets sent only in the transactions)`
      : check.problems.join('; '),
  }
}

/** 10 records in an aborted transaction, then 1 in a committed one: read_committed sees only the 1. */
async function abortedTransaction({ adapter, admin, brokers, name }: CheckContext) {
  const topic = name('abort')
  await createBenchTopics(admin, [topic], { partitions })
  const producer = await adapter.transactionalProducer({
    clientId: 'bench-kc-abort',
    transactionalId: name('abort_txn'),
  })
  try {
    const aborted = await producer.begin()
    await aborted.send(topic, benchRecords(0, 10))
    await aborted.abort()
    const committed = await producer.begin()
    await committed.send(topic, benchRecords(10, 11))
    await committed.commit()
  } finally {
    await producer.close()
  }
  const read = (await readTopic({ brokers, admin, topic })).map((record) => record.sequence)
  const written = [...(await topicEnds(admin, topic)).values()].reduce((sum, end) => sum + end, 0n)
  const passed = read.length === 1 && read[0] === 10
  return {
    passed,
    detail: passed
      ? `the aborted 10 records were written (${written} offsets with the markers) and not read; the committed 1 was`
      : `read_committed read sequences [${read.join(', ')}], expected [10]`,
  }
}

/**
 * Producer A opens a transaction and sends; producer B starts with the same transactional id
 * (as a restarted alerting evaluator would) and commits one record. A's commit must be refused,
 * and only B's record be read.
 */
async function fencing({ adapter, admin, brokers, name }: CheckContext) {
  const topic = name('fence')
  const transactionalId = name('fence_txn')
  await createBenchTopics(admin, [topic], { partitions })
  const first = await adapter.transactionalProducer({ clientId: 'bench-kc-fence-a', transactionalId })
  let second: Awaited<ReturnType<KafkaClientAdapter['transactionalProducer']>> | undefined
  let refused: string | undefined
  try {
    const zombie = await first.begin()
    await zombie.send(topic, benchRecords(0, 5))
    second = await adapter.transactionalProducer({ clientId: 'bench-kc-fence-b', transactionalId })
    const current = await second.begin()
    await current.send(topic, benchRecords(5, 6))
    await current.commit()
    try {
      await zombie.send(topic, benchRecords(6, 7))
      await zombie.commit()
    } catch (error) {
      refused = describeError(error)
    }
  } finally {
    await first.close().catch(() => undefined)
    await second?.close()
  }
  const read = (await readTopic({ brokers, admin, topic })).map((record) => record.sequence)
  const onlySecond = read.length === 1 && read[0] === 5
  const passed = refused !== undefined && onlySecond
  return {
    passed,
    detail: passed
      ? `the fenced producer's commit was refused (${(refused ?? '').slice(0, 120)}); only the new producer's record was read`
      : `${refused === undefined ? "the fenced producer's commit went through; " : ''}read sequences [${read.join(', ')}], expected [5]`,
  }
}

/**
 * Two members of one group on a 6-partition topic share its partitions (each some, none twice,
 * all of them, as the broker describes the group); when one leaves, the other gets them all.
 */
async function rebalance({ adapter, admin, name }: CheckContext) {
  const topic = name('rebalance')
  const groupId = name('rebalance_group')
  await createBenchTopics(admin, [topic], { partitions })
  const member = () =>
    adapter.consumer({
      groupId,
      topic,
      concurrency: partitions,
      onBatch: () => Promise.resolve(),
      onFailure: () => undefined,
    })
  const shapes: string[] = []
  const first = await member()
  let second: ClientConsumer | undefined
  try {
    shapes.push(await waitForAssignment(admin, groupId, topic, 1))
    second = await member()
    shapes.push(await waitForAssignment(admin, groupId, topic, 2))
    await first.close()
    shapes.push(await waitForAssignment(admin, groupId, topic, 1))
  } finally {
    await first.close().catch(() => undefined)
    await second?.close()
  }
  return {
    passed: true,
    detail: `partitions per member as the broker saw them: one member ${shapes[0]}, a second joined ${shapes[1]}, the first left ${shapes[2]}`,
  }
}

/** Polls the broker's description of the group until `members` members share all partitions. */
async function waitForAssignment(
  admin: Admin,
  groupId: string,
  topic: string,
  members: number,
): Promise<string> {
  const deadline = performance.now() + deadlineMs
  let last = ''
  for (;;) {
    const { groups } = await admin.describeGroups([groupId])
    const group = groups[0]
    const assigned = (group?.members ?? []).map((member) => {
      if (member.memberAssignment.length === 0) return []
      return AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic] ?? []
    })
    const verdict = assignmentSettled(assigned, { partitions, members })
    last = `${group?.state ?? 'no group'}, ${verdict.shape}`
    if (group?.state === 'Stable' && verdict.settled) return verdict.shape
    if (performance.now() > deadline) {
      throw new Error(
        `the group did not settle on ${members} member(s) in ${deadlineMs / 1000} s (last: ${last})`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * A member reads 10 records per partition and commits only after offset 4 (offset 5, the next to
 * read), then leaves: the broker holds 5 on every partition (nothing committed on its own, nor
 * on leaving), and a new member of the group starts each partition at 5.
 */
async function manualCommits({ adapter, admin, referee, name }: CheckContext) {
  const topic = name('commits')
  const groupId = name('commits_group')
  await createBenchTopics(admin, [topic], { partitions })
  const records = benchRecords(0, 10 * partitions)
  await fill(referee, topic, records, (i) => i % partitions)
  const ends = await topicEnds(admin, topic)
  await consumeUntil(adapter, {
    groupId,
    topic,
    concurrency: partitions,
    onBatch: async (batch, consumer) => {
      const fifth = batch.records.find((record) => record.offset === 4n)
      if (fifth) await consumer.commit(fifth)
      return (batch.records.at(-1)?.offset ?? -1n) + 1n >= (ends.get(batch.partition) ?? 0n)
    },
    partitionsDone: partitions,
  })
  const committed = await committedOffsets(admin, groupId, topic)
  const wrong = [...ends.keys()].filter((partition) => committed.get(partition) !== 5n)
  const firstOffsets = new Map<number, bigint>()
  await consumeUntil(adapter, {
    groupId,
    topic,
    concurrency: partitions,
    onBatch: (batch) => {
      if (!firstOffsets.has(batch.partition))
        firstOffsets.set(batch.partition, batch.records[0]?.offset ?? -1n)
      return Promise.resolve(true)
    },
    partitionsDone: partitions,
  })
  const resumedElsewhere = [...firstOffsets].filter(([, offset]) => offset !== 5n)
  const passed = wrong.length === 0 && resumedElsewhere.length === 0
  const offsets = (map: Map<number, bigint>) => [...map].map(([p, o]) => `${p}:${o}`).join(' ')
  return {
    passed,
    detail: passed
      ? 'committed 5 of 10 on each partition, which the broker held after the member left; a new member resumed each partition at 5'
      : `committed after leaving: ${offsets(committed)}; a new member started at: ${offsets(firstOffsets)} (expected 5 everywhere)`,
  }
}

/**
 * Runs a member of `groupId` until `onBatch` has returned true for `partitionsDone` partitions
 * (once per partition), then closes it. Fails on a client failure or after deadlineMs.
 */
async function consumeUntil(
  adapter: KafkaClientAdapter,
  options: {
    groupId: string
    topic: string
    concurrency: number
    onBatch: (batch: ConsumedBatch, consumer: ClientConsumer) => Promise<boolean>
    partitionsDone: number
  },
): Promise<void> {
  const done = new Set<number>()
  let failure: string | undefined
  let wake: (() => void) | undefined
  const consumer = await adapter.consumer({
    groupId: options.groupId,
    topic: options.topic,
    concurrency: options.concurrency,
    onBatch: async (batch, handle) => {
      if (done.has(batch.partition)) return
      try {
        if (await options.onBatch(batch, handle)) done.add(batch.partition)
      } catch (error) {
        failure ??= error instanceof Error ? error.message : String(error)
        throw error
      } finally {
        wake?.()
      }
    },
    onFailure: (message) => {
      failure ??= message
      wake?.()
    },
  })
  try {
    const deadline = performance.now() + deadlineMs
    while (done.size < options.partitionsDone) {
      if (failure) throw new Error(failure)
      if (performance.now() > deadline) {
        throw new Error(
          `${options.topic}: ${done.size} of ${options.partitionsDone} partitions done in ${deadlineMs / 1000} s`,
        )
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 250).unref()
      })
    }
  } finally {
    await consumer.close()
  }
}

/** Writes `records` with kafkajs (the referee), to `partitionOf(i)` when given. */
async function fill(
  referee: Kafka,
  topic: string,
  records: readonly { key: Buffer; value: Buffer }[],
  partitionOf?: (index: number) => number,
): Promise<void> {
  const producer = referee.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    const messages = records.map((record, i) => ({
      ...record,
      ...(partitionOf && { partition: partitionOf(i) }),
    }))
    await producer.send({ topic, acks: -1, messages })
  } finally {
    await producer.disconnect()
  }
}

/**
 * An error's message with the messages of the errors it aggregates (@platformatic/kafka wraps the
 * broker's error code in an AggregateError) and of its cause, a few levels deep.
 */
export function describeError(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return String(error)
  if (depth >= 3) return error.message
  const nested = [
    ...(error instanceof AggregateError ? (error.errors as unknown[]) : []),
    ...(error.cause !== undefined ? [error.cause] : []),
  ].map((inner) => describeError(inner, depth + 1))
  return nested.length > 0 ? `${error.message} (${nested.join('; ')})` : error.message
}
