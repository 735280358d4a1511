import { Kafka, logLevel } from 'kafkajs'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { waitFor } from '@audit-pipeline/testing'
import { buildMainJob, buildPackage, startServiceProcess } from '../support/serviceProcess.js'
import { expectNothingLost, runDeliveryDrill } from './support/deliveryDrill.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'fault-zombie', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })

beforeAll(() => {
  buildMainJob()
  buildPackage('@audit-pipeline/normalizer')
}, 300_000)

describe('a frozen normalizer', () => {
  it(
    'SIGSTOPped past its session timeout while a second instance takes over, then SIGCONTed: nothing lost, no visible duplicate',
    { timeout: 600_000 },
    async () => {
      const result = await runDeliveryDrill({
        fault: 'normalizer SIGSTOP past session timeout, SIGCONT (zombie)',
        stack,
        kafka,
        goodEvents: 20_000,
        inject: async (drill) => {
          const frozen = drill.services.get('normalizer')
          expect(frozen).toBeDefined()
          const env = Object.fromEntries(
            Object.entries(drill.env).filter(([name]) => /^(NORMALIZER_|KAFKA_|SCHEMA_REGISTRY_)/.test(name)),
          )
          const second = startServiceProcess('services/normalizer/bin/audit-normalizer.js', {
            ...env,
            OPS_PORT: '0',
            LOG_LEVEL: 'info',
          })
          await second.waitForLog('ready', 60_000)
          process.kill(frozen!.pid, 'SIGSTOP')
          // Past the 6 s session timeout: the group gives the frozen member's partitions to the second.
          await waitFor(
            () => second.logs.filter((line) => line.msg === 'joined the consumer group').length >= 2,
            { timeoutMs: 60_000, description: 'the second instance to take the frozen one’s partitions' },
          )
          await new Promise((resolve) => setTimeout(resolve, 8_000)) // the freeze itself
          process.kill(frozen!.pid, 'SIGCONT')
        },
      })
      expectNothingLost(result)
    },
  )
})
