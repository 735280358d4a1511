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
