import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { uniqueName, waitFor } from '@audit-pipeline/testing'

const stack = inject('stack')
const kafka = new Kafka({
  clientId: 'alerting-tx-test',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

// The alerting service's exactly-once design rests on kafkajs transactions working against our
// broker (Apache Kafka 4.x): produce + sendOffsets commit together, aborted writes stay invisible.
describe('kafkajs transactions against the broker', () => {
  it('commits produced messages with consumer offsets, and hides aborted ones from read_committed readers', async () => {
    const input = uniqueName('tx_in')
    const output = uniqueName('tx_out')
    const groupId = uniqueName('tx_group')
    const admin = kafka.admin()
    await admin.connect()
    onTestFinished(() => admin.disconnect())
    await admin.createTopics({ topics: [input, output].map((topic) => ({ topic })), waitForLeaders: true })

    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    })
    await producer.connect()
    onTestFinished(() => producer.disconnect())

    const aborted = await producer.transaction()
    await aborted.send({ topic: output, messages: [{ value: 'aborted' }] })
    await aborted.abort()

    // The group's coordinator exists once a member joined, as in the service.
    const member = kafka.consumer({ groupId, maxWaitTimeInMs: 100 })
    await member.connect()
    onTestFinished(() => member.disconnect())
    await member.subscribe({ topics: [input], fromBeginning: true })
    let joined = false
    member.on(member.events.GROUP_JOIN, () => {
      joined = true
    })
    await member.run({ eachMessage: () => Promise.resolve() })
    await waitFor(() => joined, { timeoutMs: 20_000 })

    const committed = await producer.transaction()
    await committed.send({ topic: output, messages: [{ value: 'committed' }] })
    await committed.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '7' }] }],
    })
    await committed.commit()

    const seen: string[] = []
    const consumer = kafka.consumer({
      groupId: uniqueName('tx_reader'),
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    })
    await consumer.connect()
    onTestFinished(() => consumer.disconnect())
    await consumer.subscribe({ topics: [output], fromBeginning: true })
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.push(message.value?.toString() ?? '')
        return Promise.resolve()
      },
    })
    await waitFor(() => seen.length >= 1, { timeoutMs: 20_000 })

    const offsets = await admin.fetchOffsets({ groupId, topics: [input] })
    expect(seen).toEqual(['committed'])
    expect(offsets[0]?.partitions[0]?.offset).toBe('7')
  })
})
