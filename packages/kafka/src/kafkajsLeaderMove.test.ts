import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

/**
 * kafkajs 2.2.4 kept a send's responses per broker: when a broker failed for a partition whose
 * leader then moved to a broker that had already answered for its own partitions, that partition
 * was never sent again and send() resolved (tulios/kafkajs#1303). The cluster drill lost ~2% of
 * its events that way. patches/kafkajs+2.2.4.patch keeps them per partition; this drives kafkajs's
 * own sendMessages with a cluster whose leader moves mid-send.
 */
const require = createRequire(import.meta.url)
type Produce = { topicData: { topic: string; partitions: { partition: string; messages: unknown[] }[] }[] }
type SendMessages = (options: {
  acks: number
  timeout?: number
  topicMessages: { topic: string; messages: { key: string; value: string; partition: number }[] }[]
}) => Promise<{ topicName: string; partition: number; errorCode: number }[]>
const createSendMessages = require('kafkajs/src/producer/sendMessages') as (options: unknown) => SendMessages
const createRetrier = require('kafkajs/src/retry') as (options: unknown) => unknown
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as {
  createErrorFromCode: (code: number) => Error
}

const topic = 'audit.normalized'
const notLeaderForPartition = 6

/**
 * Partitions 0 and 1 on brokers `initial` names. Broker 2 fails with NOT_LEADER and hands its
 * partitions to broker 1; a partition the metadata had no leader for appears on broker 1 at the
 * first refresh.
 */
function leaderMovingCluster(initial: Record<number, number> = { 0: 1, 1: 2 }) {
  let leaders: Record<number, number> = initial
  const requests: { broker: number; partitions: number[] }[] = []
  const broker = (nodeId: number) => ({
    nodeId,
    produce: ({ topicData }: Produce) => {
      const partitions = topicData.flatMap((t) => t.partitions.map((p) => Number(p.partition)))
      requests.push({ broker: nodeId, partitions })
      if (nodeId === 2) {
        leaders = { 0: 1, 1: 1 }
        return Promise.reject(createErrorFromCode(notLeaderForPartition))
      }
      return Promise.resolve({
        topics: [
          {
            topicName: topic,
            partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '0' })),
          },
        ],
      })
    },
  })
  const brokers: Record<number, ReturnType<typeof broker>> = { 1: broker(1), 2: broker(2) }
  const cluster = {
    targetTopics: new Set<string>(),
    addMultipleTargetTopics: () => Promise.resolve(),
    refreshMetadata: () => {
      if (leaders[1] === undefined) leaders = { ...leaders, 1: 1 }
      return Promise.resolve()
    },
    refreshMetadataIfNecessary: () => Promise.resolve(),
    isConnected: () => true,
    findTopicPartitionMetadata: () =>
      [0, 1].map((partitionId) => ({ partitionId, leader: leaders[partitionId] })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const byLeader: Record<number, string[]> = {}
      for (const partition of partitions) {
        const leader = leaders[Number(partition)]
        // As kafkajs's cluster does: a partition without metadata is left out.
        if (leader !== undefined) (byLeader[leader] ??= []).push(partition)
      }
      return byLeader
    },
    findBroker: ({ nodeId }: { nodeId: number }) => Promise.resolve(brokers[nodeId]),
  }
  return { cluster, requests }
}

function sendMessagesOn(cluster: ReturnType<typeof leaderMovingCluster>['cluster']): SendMessages {
  const quiet = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  }
  return createSendMessages({
    logger: quiet,
    cluster,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    eosManager: {
      isTransactional: () => false,
      getSequence: () => 0,
      updateSequence: () => undefined,
      getProducerId: () => -1,
      getProducerEpoch: () => -1,
      getTransactionalId: () => undefined,
      acquireBrokerLock: () => Promise.resolve(),
      releaseBrokerLock: () => Promise.resolve(),
    },
    retrier: createRetrier({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
  })
}

const twoMessages = [
  {
    topic,
    messages: [
      { key: 'a', value: 'to partition 0', partition: 0 },
      { key: 'b', value: 'to partition 1', partition: 1 },
    ],
  },
]

describe('kafkajs producer (patched)', () => {
  it('sends a partition whose leader moved to a broker that had already answered, instead of dropping it', async () => {
    const { cluster, requests } = leaderMovingCluster()
    const acknowledged = await sendMessagesOn(cluster)({ acks: -1, topicMessages: twoMessages })
    // The retry took partition 1 to its new leader, broker 1, though broker 1 had answered already.
    expect(requests).toContainEqual({ broker: 1, partitions: [1] })
    expect(acknowledged.map((r) => r.partition).sort()).toEqual([0, 1])
    // Partition 0 was acknowledged once: the retry does not send it again.
    expect(requests.filter((r) => r.partitions.includes(0))).toHaveLength(1)
  })

  it('does not resolve while a partition has no known leader: it waits for the metadata, then sends it', async () => {
    const { cluster, requests } = leaderMovingCluster({ 0: 1 })
    const acknowledged = await sendMessagesOn(cluster)({ acks: -1, topicMessages: twoMessages })
    expect(acknowledged.map((r) => r.partition).sort()).toEqual([0, 1])
    expect(requests).toEqual([
      { broker: 1, partitions: [0] },
      { broker: 1, partitions: [1] },
    ])
  })
})
