import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'
import { buildMainJob } from '../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'fault-fast', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })

beforeAll(() => buildMainJob(), 300_000)

/**
 * The fault suite's fast subset, in `npm test` (the rest: `npm run test:faults`): poison records
 * spread among good events while the normalizer is killed with SIGKILL and `npm start` starts it
 * again. Nothing acknowledged is lost anywhere, no duplicate is visible, every poison record is
 * dead-lettered with its class.
 */
describe('fault drill, fast subset', () => {
  it(
    'poison records among 2,000 events and a normalizer SIGKILL: nothing lost',
    { timeout: 300_000 },
    async () => {
      let restartedPid: number | undefined
      const result = await runDeliveryDrill({
        fault: 'normalizer SIGKILL + 20 poison in 2,000 (fast)',
        stack,
        kafka,
        goodEvents: 2_000,
        poison: 20,
        inject: async (drill) => {
          const normalizer = drill.services.get('normalizer')
          expect(normalizer).toBeDefined()
          process.kill(normalizer!.pid, 'SIGKILL')
          // npm start notices and starts it again, saying so.
          const line = await waitFor(
            () => drill.run.otherOutput.find((l) => /normalizer restarted as pid \d+/.test(l)),
            { timeoutMs: 60_000, description: 'npm start to restart the normalizer' },
          )
          restartedPid = Number(/restarted as pid (\d+)/.exec(line)?.[1])
        },
      })
      expectNothingLost(result)
      expect(restartedPid).not.toBe(result.drill.services.get('normalizer')?.pid)
    },
  )
})
