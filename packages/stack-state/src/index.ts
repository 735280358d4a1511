export {
  defaultStateDir,
  localPublicKeysFile,
  localQueryApiKeysFile,
  localSigningKeyFile,
} from './stateDir.js'
export { isAlive, isOurProcess } from './processIdentity.js'
export {
  isStackRunning,
  kafkaNodeName,
  readStackState,
  removeStackState,
  schemaRegistryName,
  stackProcesses,
  stackStateFile,
  updateStackState,
  writeStackState,
  type KafkaNode,
  type LaunchCommand,
  type ManagedProcess,
  type StackState,
} from './stackState.js'
export {
  pipelineEndpointsFile,
  readRunningPipeline,
  removePipelineEndpoints,
  writePipelineEndpoints,
  type LocalQueryApi,
  type PipelineEndpoints,
} from './pipelineEndpoints.js'
export {
  processStates,
  readSupervisionState,
  removeSupervisionState,
  supervisionStateFile,
  writeSupervisionState,
  type ProcessExit,
  type ProcessState,
  type SupervisedProcessStatus,
  type SupervisionState,
} from './supervisionState.js'
