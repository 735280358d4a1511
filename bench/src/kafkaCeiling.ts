import { randomUUID } from 'node:crypto'
import { Kafka, logLevel } from 'kafkajs'
import { createBenchTopics } from './benchTopics.js'
import { processWindows, type NamedProcess } from './cpuAccounting.js'
import { takeCpuSnapshot } from './cpuSnapshot.js'
import type { ConsumerPerfSummary, ProducerPerfResult } from './kafkaPerfOutput.js'
import { consumerPerformance, producerPerformance, type KafkaTools } from './kafkaPerfTools.js'

export type CeilingRun = { result: ProducerPerfResult; brokerMicrosPerRecord: number }

/**
 * Kafka alone, the ceiling of the end-to-end section: ProducerPerformance on two new topics of 6
 * partitions, keyed over `keys` keys as the pipeline's events are (the ceiling) and unkeyed (the
 * tool's default, for comparison), then ConsumerPerformance reading the keyed one back; each with
 * the broker's CPU time per record.
 */
export async function kafkaCeiling(options: {
  tools: KafkaTools
  brokers: string[]
  prefix: string
  records: number
  recordSize: number
  keys: number
  brokerProcesses: NamedProcess[]
  ticksPerSecond: number
}): Promise<{
  keyed: CeilingRun
  unkeyed: CeilingRun
  consumed: { summary: ConsumerPerfSummary; brokerMicrosPerRecord: number }
}> {
  const { tools, brokers, records } = options
  const topics = { keyed: `${options.prefix}.ceiling.keyed`, unkeyed: `${options.prefix}.ceiling.unkeyed` }
  const admin = new Kafka({ clientId: 'bench-e2e', brokers, logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await createBenchTopics(admin, Object.values(topics), { partitions: 6 })
  } finally {
    await admin.disconnect()
  }
  /** `work` with the broker's CPU µs per record over it. */
  const brokerCost = async <T>(work: () => Promise<T>) => {
    const before = takeCpuSnapshot(options.brokerProcesses)
    const value = await work()
    const after = takeCpuSnapshot(options.brokerProcesses)
    const ticks = processWindows(before, after).reduce((sum, p) => sum + p.after - p.before, 0)
    return { value, brokerMicrosPerRecord: (ticks / options.ticksPerSecond / records) * 1e6 }
  }
  const produce = async (topic: string, keys?: number): Promise<CeilingRun> => {
    const { value, brokerMicrosPerRecord } = await brokerCost(() =>
      producerPerformance(tools, {
        brokers,
        topic,
        records,
        recordSize: options.recordSize,
        ...(keys !== undefined && { keys }),
      }),
    )
    return { result: value, brokerMicrosPerRecord }
  }
  const keyed = await produce(topics.keyed, options.keys)
  const unkeyed = await produce(topics.unkeyed)
  const consumed = await brokerCost(() =>
    consumerPerformance(tools, {
      brokers,
      topic: topics.keyed,
      records,
      group: `${options.prefix}-ceiling-${randomUUID()}`,
    }),
  )
  return {
    keyed,
    unkeyed,
    consumed: { summary: consumed.value, brokerMicrosPerRecord: consumed.brokerMicrosPerRecord },
  }
}
