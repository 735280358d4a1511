import type { Kafka, Message } from 'kafkajs'
import type { SignedCheckpoint } from '@audit-pipeline/integrity'

/**
 * The checkpoints topic's messages: one per checkpoint, keyed by tenant, chain and checkpoint
 * number, the signed checkpoint as JSON. Every key is new, so compaction keeps them all and only
 * folds a checkpoint sent twice (a retried send) into one.
 */
export function checkpointMessages(checkpoints: readonly SignedCheckpoint[]): Message[] {
  return checkpoints.map((checkpoint) => ({
    key: `${checkpoint.tenant}/${checkpoint.chain}/${checkpoint.checkpoint_seq}`,
    value: JSON.stringify(checkpoint),
  }))
}

/**
 * Creates the checkpoints topic when it is missing: compacted, so it keeps every checkpoint
 * however long the pipeline runs, and one partition, so it reads in the order written.
 */
export async function ensureCheckpointTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    if ((await admin.listTopics()).includes(topic)) return
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: true,
    })
  } finally {
    await admin.disconnect()
  }
}
