import { pipelineTopics } from '@audit-pipeline/config'
/** Where the pipeline's services write dead letters unless configured otherwise. */
export const defaultDeadLetterTopic: string = pipelineTopics.deadLetters.name

/**
 * The consumer group in which a replay remembers how far it got in a dead-letter topic, so a
 * second replay does not send the same dead letters again.
 */
export function replayGroupIdFor(deadLetterTopic: string): string {
  return `audit-dlq-replay.${deadLetterTopic}`
}
