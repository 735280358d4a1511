export { ConfigError, type ConfigProblem } from './configError.js'
export { fieldKeysPairProblem } from './fieldKeysSettings.js'
export {
  ConfigFileError,
  formatConfigFileProblem,
  isConfigInvalid,
  type ConfigFileErrorInit,
  type ConfigFileProblem,
} from './configFileError.js'
export { checkReadableFiles } from './readableFiles.js'
export { parseSettings } from './parseSettings.js'
export {
  loadConnectionSettings,
  type ConnectionSettings,
  type KafkaSettings,
  type SchemaRegistrySettings,
  type ClickHouseSettings,
} from './connectionSettings.js'
export { defaultNormalizerGroupId, pipelineTopics, type PipelineTopic } from './topics.js'
export { checkShutdownDeadline, collectProblems, envValues } from './envValues.js'
export {
  formatDocumentPath,
  positionAtOffset,
  positionOf,
  type DocumentPath,
  type PointAt,
  type Position,
} from './documentPositions.js'
export {
  serviceConnections,
  unknownSettings,
  type ServiceClickHouse,
  type ServiceConnections,
} from './serviceSettings.js'
export { temporalLevelHeader } from './headers.js'
