export {
  auditEventContract,
  contracts,
  currentSchema,
  readSchema,
  releasedSchemas,
  schemasDir,
  type AvroSchema,
  type SchemaContract,
} from './contract.js'
export {
  breakingChanges,
  breakingChangeKinds,
  type AvroSchemaDefinition,
  type BreakingChange,
  type BreakingChangeKind,
} from './breakingChanges.js'
export {
  checkAgainstHistory,
  sameSchema,
  type HistoryCheck,
  type ReleaseStatus,
  type ReleasedSchema,
  type VersionCheck,
} from './historyCheck.js'
export {
  checkWithRegistry,
  registerHistory,
  requiredCompatibilityLevel,
  type RegistryCheck,
  type RegistryOptions,
} from './registryCheck.js'
export {
  checkSchemas,
  reportContract,
  type ContractReport,
  type SchemaGateOptions,
  type SchemaGateReport,
} from './schemaGate.js'
export { loadContractSchemas, type ContractSchemas } from './contractSchemas.js'
export { SchemaInvalidError } from './schemaInvalidError.js'
export {
  SchemaRegistryError,
  schemaRegistryErrorCodes,
  type SchemaRegistryErrorCode,
} from './schemaRegistryError.js'
export { ticketExampleLines } from './examples.js'
