import { Kafka, logLevel } from 'kafkajs'
import { Registry } from 'prom-client'
import { describe, expect, inject, it, onTestFinished } from 'vitest'
import { createLogger } from '@audit-pipeline/service-runtime'
import { uniqueName, waitFor, waitForCommittedToEnd } from '@audit-pipeline/testing'
import { createConsumerMetrics } from './consumerMetrics.js'
import {
  createConsumerRuntime,
  registryOutage,
  type ConsumerRuntimeOptions,
  type RuntimeContext,
} from './consumerRuntime.js'
import type { ProcessingStep } from './processingStep.js'
import type { RecordOutcome } from './recordFailure.js'
import { commitOffsets } from './steps/commitOffsets.js'
import { reduce } from './steps/reduce.js'
import { runTask, type Processed } from './steps/runTask.js'
import type { KafkaRecord } from './kafkaRecord.js'

const stack = inject('stack')
const kafka = new Kafka({ clientId: 'runtime-test', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING })
const log = createLogger({ service: 'runtime-test', level: 'fatal' })

async function topicWith(values: string[], partitions = 1): Promise<string> {
  const topic = uniqueName('runtime')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  await admin.disconnect()
  await produce(topic, values)
  return topic
}

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) })
  await producer.disconnect()
}

const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i))

type Stored = { values: number[]; failures: string[] }

/**
 * The steps of a small consumer: parse each value (a "poison" value throws), batch, "write" the
 * batch to `stored` (through `beforeWrite`, which may fail), commit.
 */
function testSteps(stored: Stored, beforeWrite: (batch: number[]) => void) {
  return (context: RuntimeContext): ProcessingStep<KafkaRecord> =>
    runTask(
      (record: KafkaRecord) => {
        const text = record.value?.toString() ?? ''
        if (text === 'poison') throw new TypeError('poison record')
        return Number(text)
      },
      reduce<Processed<KafkaRecord, number>, RecordOutcome<number>[]>(
        {
          initial: () => [],
          accumulate: (batch, { outcome }) => (batch.push(outcome), batch),
          maxMessages: 50,
          maxAgeMs: 50,
        },
        {
          async submit(message) {
            const batch = message.payload
            beforeWrite(batch.flatMap((o) => (o.ok ? [o.value] : [])))
            const failures = batch.flatMap((o) => (o.ok ? [] : [o.failure.errorClass]))
            context.countDeadLetters(failures)
            stored.failures.push(...failures)
            stored.values.push(...batch.flatMap((o) => (o.ok ? [o.value] : [])))
            await commitOffsets(context.commit).submit(message)
          },
          poll: () => Promise.resolve(),
          join: () => Promise.resolve(),
          close: () => Promise.resolve(),
        },
      ),
    )
}

function startRuntime(
  topic: string,
  overrides: Partial<ConsumerRuntimeOptions> & Pick<ConsumerRuntimeOptions, 'createSteps'>,
) {
  const registry = new Registry()
  const groupId = uniqueName('runtime_group')
  const runtime = createConsumerRuntime({
    kafka,
    log,
    metrics: createConsumerMetrics(registry, 'audit_test'),
    group: { groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 100 },
    subscription: { topics: [topic], fromBeginning: true },
    outage: { backoff: { initialDelayMs: 50, maxDelayMs: 500, multiplier: 2 }, giveUpAfterMs: 0 },
    stopDeadlineMs: 10_000,
    ...overrides,
  })
  onTestFinished(() => runtime.stop())
  /** A metric's total, over the series whose labels include `labels`. */
  const metric = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)?.get())?.values
      .filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))
      .reduce((sum, v) => sum + v.value, 0) ?? 0
  return { runtime, groupId, metric }
}

describe('consumer runtime', () => {
  it('restarts from the last commit after a step fails, with new steps, losing and repeating nothing', async () => {
    const topic = await topicWith(numbers(0, 200))
    const stored: Stored = { values: [], failures: [] }
    let built = 0
    let failures = 0
    const { runtime, groupId, metric } = startRuntime(topic, {
      createSteps: (context) => {
        built++
        return testSteps(stored, (batch) => {
          // The second batch's write fails once, as an insert that could not be made would.
          if (batch[0] === 50 && failures++ === 0) throw new Error('write failed')
        })(context)
      },
    })
    await runtime.start()
    await waitForCommittedToEnd(kafka, groupId, topic, 30_000)
    expect(stored.values).toEqual(numbers(0, 200).map(Number))
    // One restart for the failed step. A fresh broker may also answer the group's first join
    // with COORDINATOR_LOAD_IN_PROGRESS, which kafkajs reports as a crash: a restart of its own
    // (reason "kafka"), with new steps too.
    expect(await metric('audit_test_consumer_restarts_total', { reason: 'step' })).toBe(1)
    expect(built).toBe(1 + (await metric('audit_test_consumer_restarts_total')))
    await waitFor(() => runtime.ready().ok, { timeoutMs: 10_000, description: 'ready again' })
  })

  it('holds a record while what it needs is unavailable, and goes on once it answers: no restart, no dead letter', async () => {
    const topic = await topicWith(numbers(0, 20))
    const stored: Stored = { values: [], failures: [] }
    let attempts = 0
    const outage = Object.assign(new Error('registry unreachable'), {
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
    })
    const { runtime, groupId, metric } = startRuntime(topic, {
      createSteps: (context) => {
        const steps = testSteps(stored, () => undefined)(context)
        return {
          ...steps,
          // Record 7 finds the registry down for its first two attempts.
          submit: async (message) => {
            if (message.payload.value?.toString() === '7') {
              await context.whileUnavailable(registryOutage, () =>
                ++attempts <= 2 ? Promise.reject(outage) : Promise.resolve(),
              )
            }
            return steps.submit(message)
          },
        }
      },
    })
    await runtime.start()
    await waitForCommittedToEnd(kafka, groupId, topic, 30_000)
    expect(stored.values).toEqual(numbers(0, 20).map(Number))
    expect(attempts).toBe(3)
    expect(await metric('audit_test_registry_retries_total')).toBe(2)
    expect(await metric('audit_test_consumer_restarts_total', { reason: 'step' })).toBe(0)
    expect(stored.failures).toEqual([])
  })

  it('dead-letters a record whose work throws and goes on with the partition', async () => {
    const topic = await topicWith([...numbers(0, 10), 'poison', ...numbers(10, 10)])
    const stored: Stored = { values: [], failures: [] }
    const { runtime, groupId, metric } = startRuntime(topic, {
      createSteps: testSteps(stored, () => undefined),
    })
    await runtime.start()
    await waitForCommittedToEnd(kafka, groupId, topic, 30_000)
    expect(stored.values).toEqual(numbers(0, 20).map(Number))
    expect(stored.failures).toEqual(['RECORD_FAILED'])
    expect(await metric('audit_test_records_failed_total')).toBe(1)
    expect(await metric('audit_test_consumer_restarts_total', { reason: 'step' })).toBe(0)
  })

  it('on stop, finishes and commits what it read within the deadline', async () => {
    const topic = await topicWith(numbers(0, 30))
    const stored: Stored = { values: [], failures: [] }
    let submitted = 0
    const { runtime, groupId } = startRuntime(topic, {
      createSteps: (context) => {
        const steps = testSteps(stored, () => undefined)(context)
        return { ...steps, submit: async (m) => (await steps.submit(m), void submitted++) }
      },
    })
    // Batches close by count (50) or age; poll() only runs after a fetch, and these 30 fit one
    // batch: their write is what stop must finish.
    await runtime.start()
    await waitFor(() => submitted === 30, { timeoutMs: 30_000, description: '30 records read' })
    await runtime.stop()
    expect(stored.values).toHaveLength(30)
    await waitForCommittedToEnd(kafka, groupId, topic, 10_000)
  })

  it('pauses its input when most records go to the dead-letter topic, and says so', async () => {
    const topic = await topicWith(Array.from({ length: 300 }, () => 'poison'))
    const stored: Stored = { values: [], failures: [] }
    const { runtime, metric } = startRuntime(topic, {
      createSteps: testSteps(stored, () => undefined),
      deadLetterGuard: { maxShare: 0.5, minDeadLetters: 20, windowMs: 60_000, pauseMs: 0 },
    })
    await runtime.start()
    await waitFor(async () => (await metric('audit_test_dead_letter_guard_tripped')) === 1, {
      timeoutMs: 30_000,
      description: 'the guard to trip',
    })
    expect(runtime.ready()).toMatchObject({ ok: false, details: { deadLetterGuardTripped: true } })
    expect(runtime.paused()).toEqual([{ topic, partitions: [0] }])
    // Only what came before the guard tripped was dead-lettered: no more than the first fetch.
    expect(stored.failures.length).toBeLessThanOrEqual(300)
  })
})
