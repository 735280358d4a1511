import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { readStackState } from '@audit-pipeline/stack-state'
import { waitFor } from '@audit-pipeline/testing'
import { buildMainJob } from '../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

const stack = inject('stack')
const stateDir = inject('stackStateDir')
const kafka = new Kafka({
  clientId: 'fault-registry',
  brokers: stack.kafkaBrokers,
  logLevel: logLevel.NOTHING,
})

beforeAll(() => buildMainJob(), 300_000)

describe('the schema registry unavailable', () => {
  it(
    'frozen for 60 s, the sink restarted meanwhile (its ids uncached): nothing lost',
    { timeout: 600_000 },
    async () => {
      const registryPid = readStackState(stateDir)?.schemaRegistry.process?.pid
      expect(registryPid, 'the run’s registry is the local stack’s').toBeDefined()
      const result = await runDeliveryDrill({
        fault: 'registry down 60 s (cached and uncached ids)',
        stack,
        kafka,
        goodEvents: 20_000,
        inject: async (drill) => {
          // SIGSTOP: the registry accepts connections and never answers, the worst kind of down.
          process.kill(registryPid!, 'SIGSTOP')
          try {
            const sink = drill.services.get('clickhouse-sink+query-api')
            expect(sink).toBeDefined()
            // A sink started during the outage has no schema cached: it must hold, not dead-letter.
            process.kill(sink!.pid, 'SIGKILL')
            await waitFor(
              () => drill.run.otherOutput.some((l) => /clickhouse-sink\S* restarted as pid \d+/.test(l)),
              {
                timeoutMs: 30_000,
                description: 'npm start to restart the sink',
              },
            )
            await new Promise((resolve) => setTimeout(resolve, 60_000)) // the outage itself
          } finally {
            process.kill(registryPid!, 'SIGCONT')
          }
        },
      })
      expectNothingLost(result)
    },
  )
})
