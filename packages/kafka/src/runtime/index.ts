export {
  committableOf,
  mergeCommittable,
  nextOffset,
  partitionId,
  type Committable,
  type KafkaRecord,
  type PartitionOffset,
  type StreamMessage,
} from './kafkaRecord.js'
export type { ProcessingStep } from './processingStep.js'
export {
  isOutage,
  isolated,
  recordFailureOf,
  StepInterrupted,
  type RecordFailure,
  type RecordOutcome,
} from './recordFailure.js'
export { runTask, mapPayload, type Processed } from './steps/runTask.js'
export { reduce, type ReduceOptions } from './steps/reduce.js'
export { runInFlight } from './steps/runInFlight.js'
export { commitOffsets } from './steps/commitOffsets.js'
export { createConsumerMetrics, type ConsumerMetrics } from './consumerMetrics.js'
export {
  createDeadLetterGuard,
  defaultDeadLetterGuard,
  type DeadLetterGuard,
  type DeadLetterGuardSettings,
} from './deadLetterGuard.js'
export { deadLetterChunkBytes, recordDeadLetter, sendDeadLetters } from './recordDeadLetter.js'
export { requireTopics, TopicsMissingError, type RequiredTopics } from './topicCheck.js'
export { isRefusedCommit, isTransientKafkaError } from './kafkaErrors.js'
export {
  createConsumerRuntime,
  defaultOutageSettings,
  registryOutage,
  type ConsumerGroupSettings,
  type ConsumerRuntime,
  type ConsumerRuntimeOptions,
  type OutageSettings,
  type RuntimeContext,
} from './consumerRuntime.js'
export {
  consumerEnvShape,
  consumerSettingsFrom,
  type ConsumerEnv,
  type ConsumerSettings,
} from './consumerSettings.js'
export { waitForKafka, waitOutOutage } from './waitForKafka.js'
export { waitForCodec } from './waitForCodec.js'
export { fakeRuntimeContext, positionsOf } from './fakeRuntimeContext.js'
export { renewingProducer, type RenewingProducer } from './renewingProducer.js'
