import type { Kafka } from 'kafkajs'
import { TopicsMissingError } from '@audit-pipeline/kafka'
import type { AlertingConfig } from '../config.js'

/**
 * Refuses to start without the input topics or the dead-letter topics it reads for conflicts (the
 * normalizer creates them), and creates the service's own topics when missing: alerts, the state
 * changelog, compacted so it holds the latest value per key however long the service runs, and
 * its dead-letter topic (which may be one of the conflict input topics: `audit.dlq` by default).
 */
export async function prepareTopics(kafka: Kafka, config: AlertingConfig): Promise<string[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = config.inputTopics.filter((topic) => !existing.has(topic))
    if (missing.length > 0) {
      throw new TopicsMissingError(
        missing,
        'ALERTING_INPUT_TOPICS',
        'create them, or start the normalizer, which creates its outputs',
      )
    }
    const missingDeadLetters = config.conflictInputTopics.filter(
      (topic) => !existing.has(topic) && topic !== config.deadLetterTopic,
    )
    if (missingDeadLetters.length > 0) {
      throw new TopicsMissingError(
        missingDeadLetters,
        'ALERTING_CONFLICT_INPUT_TOPICS',
        'create them, or start the normalizer, which creates its dead-letter topic',
      )
    }
    const own = [
      { topic: config.alertsTopic, numPartitions: 3 },
      {
        topic: config.stateTopic,
        // One partition: the evaluator is one instance (README, "Scaling").
        numPartitions: 1,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
      { topic: config.deadLetterTopic, numPartitions: 1 },
    ].filter(({ topic }) => !existing.has(topic))
    if (own.length > 0) await admin.createTopics({ topics: own, waitForLeaders: true })
    return own.map(({ topic }) => topic)
  } finally {
    await admin.disconnect()
  }
}
