/**
 * The pipeline's Kafka topics. Producers write `events`; the services that follow add theirs.
 * The local stack creates them; on an existing cluster they are created by its operators.
 */
export const pipelineTopics = {
  /** What producers (SDK, CLI) send: Avro audit events in the Confluent wire format. */
  events: { name: 'audit.events', partitions: 6 },
} as const

export type PipelineTopic = (typeof pipelineTopics)[keyof typeof pipelineTopics]
