import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { kafkaClusterControl } from '@audit-pipeline/local-stack'
import { waitFor } from '@audit-pipeline/testing'
import { buildMainJob } from '../../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from '../support/deliveryDrill.js'

const stack = inject('stack')
const control = kafkaClusterControl(inject('stackStateDir'))
const kafka = new Kafka({
  clientId: 'fault-cluster',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

beforeAll(() => buildMainJob(), 300_000)

/** Waits until every partition of the drill's topics is back to three in-sync replicas. */
async function waitForFullIsr(topics: string[]): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await waitFor(
      async () => {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics })
        return metadata.every((topic) => topic.partitions.every((partition) => partition.isr.length === 3))
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'every partition back to 3 in-sync replicas' },
    )
  } finally {
    await admin.disconnect()
  }
}

describe('a three-broker cluster', () => {
  it(
    'one broker of three SIGKILLed mid-produce and restarted: nothing lost',
    { timeout: 600_000 },
    async () => {
      expect(control.brokerIds()).toEqual([1, 2, 3])
      const result = await runDeliveryDrill({
        fault: 'one of three brokers SIGKILLed + restarted (cluster)',
        stack,
        kafka,
        goodEvents: 40_000,
        inject: async (drill) => {
          await control.killBroker(2, 'SIGKILL')
          await new Promise((resolve) => setTimeout(resolve, 8_000)) // the outage itself
          await control.startBroker(2)
          await waitForFullIsr([drill.input, drill.output])
        },
      })
      expectNothingLost(result)
    },
  )

  it(
    'a rolling restart of all three brokers while events flow: nothing lost',
    { timeout: 900_000 },
    async () => {
      const result = await runDeliveryDrill({
        fault: 'rolling restart of 3 brokers (cluster)',
        stack,
        kafka,
        goodEvents: 40_000,
        inject: async (drill) => {
          for (const id of control.brokerIds()) {
            await control.killBroker(id, 'SIGTERM')
            await control.startBroker(id)
            await waitForFullIsr([drill.input, drill.output])
          }
        },
      })
      expectNothingLost(result)
    },
  )
})
