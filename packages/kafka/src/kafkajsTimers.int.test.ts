import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, inject, it } from 'vitest'
import { uniqueName } from '@audit-pipeline/testing'

const stack = inject('stack')

/**
 * kafkajs 2.2.4 schedules its request queue's check with a negative delay (`throttledUntil` starts
 * at -1), which Node.js 24 reports as a TimeoutNegativeWarning on every client's stderr
 * (tulios/kafkajs#1751, fixed upstream but unreleased). patches/kafkajs+2.2.4.patch clamps it to
 * the 1 ms Node always used. Node.js 20 and 22 never warn; CI runs on 24 (.nvmrc).
 */
describe('kafkajs timers, as patched', () => {
  it('set no negative timeout while admin, producer and consumer connect, work and leave', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => {
      if (warning.name === 'TimeoutNegativeWarning') warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    try {
      const kafka = new Kafka({
        clientId: 'timers-test',
        brokers: stack.kafkaBrokers,
        logLevel: logLevel.NOTHING,
      })
      const topic = uniqueName('timers')
      const admin = kafka.admin()
      await admin.connect()
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })
      const producer = kafka.producer({ idempotent: true })
      await producer.connect()
      await producer.send({ topic, acks: -1, messages: [{ value: 'one' }] })
      const consumer = kafka.consumer({ groupId: uniqueName('timers') })
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning: true })
      const read = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: ({ message }) => Promise.resolve(resolve(String(message.value))) })
      })
      expect(await read).toBe('one')
      await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()])
      // Warnings are emitted on the next tick: let any already scheduled one arrive.
      await new Promise((resolve) => setImmediate(resolve))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings).toEqual([])
  })
})
