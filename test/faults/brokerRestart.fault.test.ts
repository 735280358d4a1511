import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, inject, it } from 'vitest'
import { kafkaClusterControl } from '@audit-pipeline/local-stack'
import { buildMainJob } from '../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

const stack = inject('stack')
const control = kafkaClusterControl(inject('stackStateDir'))
const kafka = new Kafka({ clientId: 'fault-broker', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })

beforeAll(() => buildMainJob(), 300_000)

describe('the only broker killed', () => {
  it(
    'SIGKILL mid-produce, restarted 8 s later: nothing lost, every service back',
    { timeout: 600_000 },
    async () => {
      const [broker] = control.brokerIds()
      const result = await runDeliveryDrill({
        fault: 'broker SIGKILL + restart after 8 s (1 broker)',
        stack,
        kafka,
        goodEvents: 40_000,
        inject: async () => {
          await control.killBroker(broker!, 'SIGKILL')
          await new Promise((resolve) => setTimeout(resolve, 8_000)) // the outage itself, not a wait for a condition
          await control.startBroker(broker!)
        },
      })
      expectNothingLost(result)
    },
  )
})
