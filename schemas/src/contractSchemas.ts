import type { AvroSchemaDefinition } from './breakingChanges.js'
import { currentSchema, releasedSchemas, type SchemaContract } from './contract.js'
import type { ReleasedSchema } from './historyCheck.js'

/** What the schema gate checks for one contract: its subject, working schema and released history. */
export type ContractSchemas = {
  subject: string
  /** The working tree's schema file, relative to schemas/, for the release instructions. */
  file: string
  current: AvroSchemaDefinition
  /** Oldest first. */
  released: readonly ReleasedSchema[]
}

/** Reads a contract's working schema and history/<subject>/v<N>.avsc from the working tree. */
export function loadContractSchemas(contract: SchemaContract): ContractSchemas {
  return {
    subject: contract.subject,
    file: contract.file,
    current: currentSchema(contract),
    released: releasedSchemas(contract),
  }
}
