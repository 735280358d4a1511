import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, inject, it } from 'vitest'
import { buildMainJob } from '../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'fault-poison', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })

beforeAll(() => buildMainJob(), 300_000)

describe('poison among good events', () => {
  it(
    '1,000 poison records in 100,000 events: each dead-lettered with its class, nothing else lost',
    { timeout: 900_000 },
    async () => {
      const result = await runDeliveryDrill({
        fault: '1,000 poison in 100,000',
        stack,
        kafka,
        goodEvents: 100_000,
        poison: 1_000,
        settleTimeoutMs: 600_000,
      })
      expectNothingLost(result)
    },
  )
})
