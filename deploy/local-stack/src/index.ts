export {
  startStack,
  stopStack,
  type StartStackOptions,
  type StackHandle,
  type StartedStackProcess,
  type StopResult,
} from './stack.js'
// The state folder's files are read through @audit-pipeline/stack-state; these stay for callers of this package.
export {
  defaultStateDir,
  isAlive,
  isStackRunning,
  localQueryApiKeysFile,
  readRunningPipeline,
  readStackState,
  type PipelineEndpoints,
  type LocalQueryApi,
  type StackState,
} from '@audit-pipeline/stack-state'
export { describeStack, describeProcesses, processRows, type ProcessRow } from './statusTable.js'
export { MissingPrerequisiteError } from './prerequisites.js'
export { defaultCacheDir } from './paths.js'
export { fetchOnceWithMaven } from './mavenFetch.js'
export { startPipeline, type RunningPipeline } from './pipeline.js'
export { localQueryApiKeyId } from './localQueryApi.js'
export {
  kafkaClusterControl,
  relaunchStackProcess,
  type BrokerSignal,
  type KafkaClusterControl,
} from './stackProcessControl.js'
export { kafkaClusterSizes, requestedClusterSize, type KafkaClusterSize } from './stackSettings.js'
export { createTopicsWithLeaders } from './pipelineTopics.js'
