export { startStack, stopStack, type StartStackOptions, type StackHandle, type StopResult } from './stack.js'
export { readStackState, isStackRunning, type StackState } from './stackState.js'
export { describeStack } from './statusTable.js'
export { MissingPrerequisiteError } from './prerequisites.js'
export { isAlive } from './processes.js'
export { defaultStateDir, defaultCacheDir } from './paths.js'
export {
  startPipeline,
  readRunningPipeline,
  type RunningPipeline,
  type PipelineEndpoints,
} from './pipeline.js'
export { localQueryApiKeysFile, localQueryApiKeyId, type LocalQueryApi } from './localQueryApi.js'
