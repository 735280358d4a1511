import type { Producer } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { createLogger } from '@audit-pipeline/service-runtime'
import { renewingProducer } from './renewingProducer.js'

const log = createLogger({ service: 'test', level: 'silent' })

/** Producers that record what happens to them; the first send of producer `failing` fails. */
function fakeProducers(failing: number) {
  const events: string[] = []
  let made = 0
  const create = () => {
    const id = ++made
    let sends = 0
    return {
      connect: () => (events.push(`connect ${id}`), Promise.resolve()),
      disconnect: () => (events.push(`disconnect ${id}`), Promise.resolve()),
      send: () => {
        sends++
        events.push(`send ${id}`)
        return id === failing && sends === 1
          ? Promise.reject(new Error('The broker received an out of order sequence number'))
          : Promise.resolve([])
      },
      sendBatch: () => (events.push(`sendBatch ${id}`), Promise.resolve([])),
    } as unknown as Producer
  }
  return { create, events }
}

describe('renewingProducer', () => {
  it('connects once and keeps one producer while sends succeed', async () => {
    const { create, events } = fakeProducers(0)
    const producer = renewingProducer(create, log)
    await producer.connect()
    await producer.send({ topic: 't', messages: [] })
    await producer.sendBatch({ topicMessages: [] })
    await producer.disconnect()
    expect(events).toEqual(['connect 1', 'send 1', 'sendBatch 1', 'disconnect 1'])
  })

  it('replaces the producer after a failed send, so its sequence numbers start again', async () => {
    const { create, events } = fakeProducers(1)
    const producer = renewingProducer(create, log)
    await expect(producer.send({ topic: 't', messages: [] })).rejects.toThrow('out of order sequence')
    await producer.send({ topic: 't', messages: [] })
    await producer.disconnect()
    expect(events).toEqual(['connect 1', 'send 1', 'disconnect 1', 'connect 2', 'send 2', 'disconnect 2'])
  })
})
